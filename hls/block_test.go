package hls_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
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
	// Each held reload asks for the segment after the newest one learnt
	// before it (two may come in one answer when the follower lags).
	prev := int64(-1)
	for i, m := range msns[1:] {
		n, err := strconv.ParseInt(m, 10, 64)
		if err != nil || n <= prev || !slices.Contains(seqs, n-1) {
			t.Fatalf("reload %d asked _HLS_msn=%q: want the segment after one learnt, increasing (requests %q, learnt %v)", i+1, m, msns, seqs)
		}
		prev = n
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

// A server that offers blocking reloads but answers at once with nothing new
// is not asked again at once: the follower waits as after any unchanged
// playlist, so it cannot spin on it.
func TestEagerFollowerDoesNotSpinOnAServerThatDoesNotHold(t *testing.T) {
	const text = "#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:7\n" +
		"#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES\n#EXTINF:1.000,\nseg7.ts\n#EXTINF:1.000,\nseg8.ts\n"
	var mu sync.Mutex
	requests := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		requests++
		mu.Unlock()
		_, _ = w.Write([]byte(text))
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 1200*time.Millisecond)
	defer cancel()
	_ = hls.Follow(ctx, hls.FollowConfig{URL: srv.URL + "/live/index.m3u8", Source: hls.NewSource(hls.SourceConfig{}),
		OnSegment: func(hls.Item) {}, Eager: func() bool { return true }})
	mu.Lock()
	defer mu.Unlock()
	// the first load, a held one at once, then one every half target duration at most
	if requests < 2 || requests > 6 {
		t.Fatalf("%d playlist requests in 1.2 s from an eager follower of a server that does not hold: want 2..6", requests)
	}
}
