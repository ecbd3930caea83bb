package hls_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/p2phls/p2phls/hls"
	"github.com/p2phls/p2phls/origin"
)

// followFor follows an origin that offers blocking reloads for d and returns
// the sequence numbers learnt and the playlist requests' _HLS_msn values.
func followFor(t *testing.T, eager bool, d time.Duration) (seqs []int64, msns []string) {
	t.Helper()
	o := origin.New(origin.Config{Segment: 200 * time.Millisecond, Window: 3, BlockingReload: true})
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		msns = append(msns, r.URL.Query().Get("_HLS_msn"))
		mu.Unlock()
		o.ServeHTTP(w, r)
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	_ = hls.Follow(ctx, hls.FollowConfig{URL: srv.URL + "/live/index.m3u8", Source: hls.NewSource(hls.SourceConfig{}),
		OnSegment: func(it hls.Item) { seqs = append(seqs, it.Segment.Seq) },
		Eager:     func() bool { return eager }})
	mu.Lock()
	defer mu.Unlock()
	return seqs, append([]string(nil), msns...)
}

// An eager follower (a peer rooting a stripe) asks for each next segment with
// a blocking reload instead of polling; any other follower polls.
func TestEagerFollowerBlocksForTheNextSegment(t *testing.T) {
	seqs, msns := followFor(t, true, 1500*time.Millisecond)
	if len(seqs) < 6 {
		t.Fatalf("learnt %v: want the window and new segments", seqs)
	}
	for i := 1; i < len(seqs); i++ {
		if seqs[i] != seqs[i-1]+1 {
			t.Fatalf("segments %v: not consecutive", seqs)
		}
	}
	if msns[0] != "" || len(msns) > len(seqs)-3+2 {
		t.Fatalf("requests' _HLS_msn %q for %d segments: want a plain first load, then one held reload per new segment", msns, len(seqs))
	}
	for i, m := range msns[1:] {
		if want := strconv.FormatInt(seqs[2+i]+1, 10); m != want {
			t.Fatalf("reload %d asked _HLS_msn=%q, want %s (requests %q)", i+1, m, want, msns)
		}
	}
	_, msns = followFor(t, false, 700*time.Millisecond)
	for _, m := range msns {
		if m != "" {
			t.Fatalf("a follower that is not eager asked _HLS_msn=%s", m)
		}
	}
}

func TestWithoutDirectives(t *testing.T) {
	for in, want := range map[string]string{
		"http://o/live/index.m3u8?_HLS_msn=41":                     "http://o/live/index.m3u8",
		"http://o/live/index.m3u8?_HLS_msn=41&_HLS_part=2&token=a": "http://o/live/index.m3u8?token=a",
		"http://o/live/index.m3u8?_HLS_skip=YES":                   "http://o/live/index.m3u8",
		"http://o/live/index.m3u8?token=a":                         "http://o/live/index.m3u8?token=a",
		"http://o/live/index.m3u8":                                 "http://o/live/index.m3u8",
	} {
		if got := hls.WithoutDirectives(in); got != want {
			t.Errorf("WithoutDirectives(%q) = %q, want %q", in, got, want)
		}
	}
}
