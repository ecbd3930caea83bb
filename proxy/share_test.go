package proxy_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/p2phls/p2phls/origin"
	"github.com/p2phls/p2phls/peer"
	"github.com/p2phls/p2phls/player"
	"github.com/p2phls/p2phls/proxy"
)

// TestSharedPlaylistsSpareTheCDN: two swarms of 5 viewers on one origin in
// one run, one passing playlists down its trees, one not. Both play every
// segment byte for byte with no stall; in the sharing one, viewers fed
// playlists by their upstreams ask the origin for it less often.
func TestSharedPlaylistsSpareTheCDN(t *testing.T) {
	// A viewer rooting a stripe keeps polling at the full rate (its tree
	// learns of segments through it); with 4 stripes most of a 5-viewer
	// swarm can be roots, so both arms run 2 stripes.
	const viewers, stripes = 5, 2
	o := origin.New(origin.Config{Segment: time.Second})
	var polls [2][viewers]atomic.Int64 // by arm and viewer (?v=N: the swarm id ignores the query)
	mux := http.NewServeMux()
	for i, arm := range []string{"/share/", "/plain/"} {
		mux.Handle(arm, http.StripPrefix(strings.TrimSuffix(arm, "/"), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if v, err := strconv.Atoi(r.URL.Query().Get("v")); err == nil && v >= 0 && v < viewers {
				polls[i][v].Add(1)
			}
			o.ServeHTTP(w, r)
		})))
	}
	cdn := httptest.NewServer(mux)
	defer cdn.Close()
	tr := startTracker(t)
	hashes := originHashes(o)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	results := make([][]player.Result, 2)
	proxies := make([][]*proxy.Server, 2)
	for i, arm := range []string{"/share/", "/plain/"} {
		results[i] = make([]player.Result, viewers)
		for v := range viewers {
			srv, err := proxy.New(ctx, proxy.Config{Playlist: fmt.Sprintf("%s%slive/index.m3u8?v=%d", cdn.URL, arm, v),
				Node: peer.Config{Tracker: "ws://" + tr.Addr + "/v1/ws", Loopback: true, Stripes: stripes, SharePlaylists: i == 0}})
			if err != nil {
				t.Fatal(err)
			}
			hs := httptest.NewServer(srv.Handler())
			defer func() { hs.Close(); srv.Close() }()
			proxies[i] = append(proxies[i], srv)
			wg.Go(func() {
				pctx, pcancel := context.WithTimeout(ctx, 24*time.Second)
				defer pcancel()
				results[i][v], _ = player.Play(pctx, player.Config{URL: hs.URL + "/live.m3u8"})
			})
		}
	}
	wg.Wait()
	var plain int64
	for v := range viewers {
		plain += polls[1][v].Load()
	}
	mean := float64(plain) / viewers
	relaxed := 0
	for i, arm := range []string{"share", "plain"} {
		for v, r := range results[i] {
			checkBytes(t, fmt.Sprintf("%s viewer %d", arm, v), r, hashes)
			if r.Stalls != 0 {
				t.Errorf("%s viewer %d: %d stalls", arm, v, r.Stalls)
			}
			if i == 1 {
				continue
			}
			var roots int
			var taken int64
			for _, r := range proxies[i][v].Stats().Renditions {
				roots, taken = roots+r.Engine.Roots, taken+r.Engine.PlaylistsTaken
			}
			n := polls[i][v].Load()
			t.Logf("sharing viewer %d: %d origin playlist requests (%.2f of the plain arm's mean %.1f), %d playlists from peers, root of %d stripes",
				v, n, float64(n)/mean, mean, taken, roots)
			if taken > 0 && float64(n) <= 0.8*mean { // relaxed viewers: 0.47-0.64; a viewer that keeps polling: about 1
				relaxed++
			}
			if float64(n) > 1.2*mean { // told first by peers, a root must not re-poll at half the target duration
				t.Errorf("sharing viewer %d asked the origin %d times, the plain arm %.1f", v, n, mean)
			}
		}
	}
	// A viewer that roots a stripe keeps polling at the full rate (its tree
	// learns of segments through it), and which viewers root stripes
	// depends on how fast the links opened: at least one must have relaxed.
	if relaxed == 0 {
		t.Fatal("no sharing viewer polled the origin less than the plain arm")
	}
}
