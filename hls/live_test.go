package hls_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/p2phls/p2phls/hls"
	"github.com/p2phls/p2phls/internal/testbin"
)

// ffmpeg's own HLS muxer makes a live sliding-window stream in a temp folder,
// served over HTTP; the follower and the Source track it for 20 s and every
// segment's bytes must equal the file's.
func TestFollowFFmpegLiveStream(t *testing.T) {
	ff := testbin.Require(t, "ffmpeg")
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	enc := exec.CommandContext(ctx, ff, "-hide_banner", "-loglevel", "error", "-re",
		"-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25", "-f", "lavfi", "-i", "sine=frequency=300",
		"-t", "30", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "25", "-c:a", "aac",
		"-f", "hls", "-hls_time", "1", "-hls_list_size", "4", "-hls_flags", "delete_segments",
		"-hls_delete_threshold", "20", filepath.Join(dir, "index.m3u8"))
	enc.Stderr = os.Stderr
	if err := enc.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = enc.Wait() }()
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer srv.Close()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if _, err := os.Stat(filepath.Join(dir, "index.m3u8")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("ffmpeg wrote no playlist")
		}
	}

	src := hls.NewSource(hls.SourceConfig{})
	var mu sync.Mutex
	var seqs []int64
	var mismatches []string
	var wg sync.WaitGroup
	fctx, fcancel := context.WithTimeout(ctx, 20*time.Second)
	defer fcancel()
	err := hls.Follow(fctx, hls.FollowConfig{URL: srv.URL + "/index.m3u8", Source: src, OnSegment: func(it hls.Item) {
		mu.Lock()
		seqs = append(seqs, it.Seq)
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			b, err := src.Fetch(ctx, it.URL, nil)
			file, ferr := os.ReadFile(filepath.Join(dir, path.Base(it.URL)))
			mu.Lock()
			defer mu.Unlock()
			if err != nil || ferr != nil || sha256.Sum256(b) != sha256.Sum256(file) || !bytes.Equal(b, file) {
				mismatches = append(mismatches, it.ID)
			}
		}()
	}})
	if err != context.DeadlineExceeded {
		t.Fatalf("follow ended with %v", err)
	}
	wg.Wait()
	if len(mismatches) > 0 {
		t.Fatalf("segments whose bytes differ from the files: %v", mismatches)
	}
	if len(seqs) < 15 {
		t.Fatalf("saw %d segments in 20 s of 1 s segments", len(seqs))
	}
	for i := 1; i < len(seqs); i++ {
		if seqs[i] != seqs[i-1]+1 {
			t.Fatalf("segment gap: %v", seqs)
		}
	}
	t.Logf("followed %d segments (%d..%d), all identical to the encoder's files; source %+v", len(seqs), seqs[0], seqs[len(seqs)-1], src.Stats())
}
