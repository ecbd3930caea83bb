package origin

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/p2phls/p2phls/hls"
	"github.com/p2phls/p2phls/internal/testbin"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func TestBuiltinClip(t *testing.T) {
	c := BuiltinClip()
	total := 0
	for _, s := range c.Segments {
		if len(s)%tsPacket != 0 || s[0] != 0x47 {
			t.Fatal("clip segment is not MPEG-TS")
		}
		total += len(s)
	}
	if len(c.Segments) != 6 || total > 1<<20 {
		t.Fatalf("clip: %d segments, %d bytes; want 6 and ≤ 1 MiB", len(c.Segments), total)
	}
}

func TestPlaylistSlidesWithDiscontinuities(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	o := New(Config{Now: clk.now})
	k := int64(len(o.cfg.Clip.Segments)) // 6
	var lastSeq int64 = -1
	for step := range 20 { // 40 s: more than three loops
		m, _, err := hls.Parse("http://o/live/index.m3u8", o.Playlist())
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Segments) != 6 || m.TargetDuration != 2*time.Second || m.Endlist {
			t.Fatalf("step %d: %+v", step, m)
		}
		if m.MediaSequence != int64(step) || m.MediaSequence < lastSeq {
			t.Fatalf("step %d: media sequence %d", step, m.MediaSequence)
		}
		lastSeq = m.MediaSequence
		for _, s := range m.Segments {
			wantDisc := s.Seq > 0 && s.Seq%k == 0
			if s.Discontinuity != wantDisc || s.DiscSeq != int(s.Seq/k) {
				t.Fatalf("step %d seg %d: discontinuity %v seq %d", step, s.Seq, s.Discontinuity, s.DiscSeq)
			}
		}
		clk.t = clk.t.Add(2 * time.Second)
	}
}

func get(t *testing.T, h http.Handler, method, path string, hdr ...string) *http.Response {
	req := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w.Result()
}

func TestSegmentsRangesAndRetirement(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	o := New(Config{Now: clk.now})
	resp := get(t, o, "GET", "/live/seg3.ts", "Range", "bytes=188-375")
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 206 || !bytes.Equal(b, o.Segment(3)[188:376]) || resp.Header.Get("Content-Type") != "video/mp2t" {
		t.Fatalf("range: %d %s %d bytes", resp.StatusCode, resp.Header.Get("Content-Type"), len(b))
	}
	if resp.Header.Get("ETag") == "" || !strings.Contains(resp.Header.Get("Cache-Control"), "max-age") {
		t.Fatalf("CDN headers missing: %v", resp.Header)
	}
	if r := get(t, o, "HEAD", "/live/seg0.ts"); r.StatusCode != 200 || r.ContentLength != int64(len(o.Segment(0))) {
		t.Fatalf("HEAD: %d, length %d", r.StatusCode, r.ContentLength)
	}
	if r := get(t, o, "GET", "/live/seg6.ts"); r.StatusCode != 404 {
		t.Fatalf("future segment: %d, want 404", r.StatusCode)
	}
	if r := get(t, o, "GET", "/live/segx.ts"); r.StatusCode != 404 {
		t.Fatalf("bad name: %d, want 404", r.StatusCode)
	}
	if r := get(t, o, "GET", "/live/index.m3u8"); r.Header.Get("Content-Type") != "application/vnd.apple.mpegurl" {
		t.Fatalf("playlist type %q", r.Header.Get("Content-Type"))
	}
	clk.t = clk.t.Add(60 * time.Second) // 30 segments later
	if r := get(t, o, "GET", "/live/seg0.ts"); r.StatusCode != 404 {
		t.Fatalf("retired segment: %d, want 404", r.StatusCode)
	}
	if r := get(t, o, "GET", "/live/seg35.ts"); r.StatusCode != 200 {
		t.Fatalf("live segment: %d", r.StatusCode)
	}
}

func TestContinuityCountersRunAcrossLoops(t *testing.T) {
	o := New(Config{Now: (&fakeClock{t: time.Unix(0, 0).Add(time.Hour)}).now})
	last := map[uint16]byte{}
	for n := int64(0); n < 20; n++ { // three loop boundaries
		seg := o.Segment(n)
		for off := 0; off < len(seg); off += tsPacket {
			pid, cc, payload, ok := tsHeader(seg[off:])
			if !ok || !payload {
				continue
			}
			if prev, seen := last[pid]; seen && cc != (prev+1)&0x0f {
				t.Fatalf("segment %d pid %d: counter %d after %d", n, pid, cc, prev)
			}
			last[pid] = cc
		}
	}
}

func TestFailureAndLatencyKnobs(t *testing.T) {
	o := New(Config{FailRate: 1, Rand: rand.New(rand.NewPCG(1, 2))})
	if r := get(t, o, "GET", "/live/seg1.ts"); r.StatusCode != 503 {
		t.Fatalf("fail-rate 1: %d, want 503", r.StatusCode)
	}
	if r := get(t, o, "GET", "/live/index.m3u8"); r.StatusCode != 200 {
		t.Fatalf("playlist must not fail: %d", r.StatusCode)
	}
	o = New(Config{Latency: 150 * time.Millisecond, Rate: 400 << 10})
	start := time.Now()
	r := get(t, o, "GET", "/live/seg1.ts")
	b, _ := io.ReadAll(r.Body)
	// ~120 KB at 400 KiB/s ≈ 0.3 s, plus 0.15 s latency
	if el := time.Since(start); el < 350*time.Millisecond || !bytes.Equal(b, o.Segment(1)) {
		t.Fatalf("latency+rate: took %v, %d bytes", el, len(b))
	}
}

// ffmpeg plays the live stream across a loop boundary with no decode error.
func TestFFmpegPlaysAcrossLoop(t *testing.T) {
	ff := testbin.Require(t, "ffmpeg")
	srv := httptest.NewServer(New(Config{}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// The player starts 3 segments from the live edge (seg 3 of 0..5), so 14 s
	// of media crosses the loop at seg 6 and ends in the second loop.
	cmd := exec.CommandContext(ctx, ff, "-hide_banner", "-nostdin", "-v", "error", "-xerror",
		"-i", srv.URL+"/live/index.m3u8", "-t", "14", "-f", "null", "-")
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
}

func TestTimestampsRunAcrossLoops(t *testing.T) {
	o := New(Config{Now: (&fakeClock{t: time.Unix(0, 0).Add(time.Hour)}).now})
	last := map[uint16]int64{}
	for n := int64(0); n < 20; n++ {
		seg := o.Segment(n)
		for off := 0; off < len(seg); off += tsPacket {
			p := seg[off : off+tsPacket]
			pid, _, _, ok := tsHeader(p)
			if !ok {
				continue
			}
			if at, _ := pesPTS(p); at > 0 && pid != 0 {
				v := getTS(p[at:])
				if prev, seen := last[pid]; seen && (v <= prev-90000 || v > prev+90000) {
					t.Fatalf("segment %d pid %d: PTS %d after %d", n, pid, v, prev)
				}
				last[pid] = v
			}
		}
	}
}

func TestLoadDirOrdersNaturally(t *testing.T) {
	dir := t.TempDir()
	c := BuiltinClip()
	for i, name := range []string{"a1.ts", "a2.ts", "a10.ts"} {
		if err := os.WriteFile(filepath.Join(dir, name), c.Segments[i], 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_ = os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o644)
	got, err := LoadDir(dir)
	if err != nil || len(got.Segments) != 3 || !bytes.Equal(got.Segments[2], c.Segments[2]) || !bytes.Equal(got.Segments[1], c.Segments[1]) {
		t.Fatalf("LoadDir: %v, %d segments", err, len(got.Segments))
	}
	if _, err := LoadDir(t.TempDir()); !errors.Is(err, ErrNoSegments) {
		t.Fatalf("empty dir: %v", err)
	}
}
