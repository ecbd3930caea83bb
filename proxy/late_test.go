package proxy_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/p2phls/p2phls/origin"
	"github.com/p2phls/p2phls/peer"
	"github.com/p2phls/p2phls/player"
	"github.com/p2phls/p2phls/proxy"
)

// A player that opens its proxy's playlist seconds after the proxy started
// (as one pointed at a running `p2phls peer` does) has its segments due on
// its own schedule, not the fast start's (engine Playing). Before, with
// 0.5 s segments, such a viewer's CDN completions came before its peers'
// bytes for nearly every segment (bench swarm, session 20: 126 of 126).
// Every player still gets every segment byte for byte, with no stall.
func TestAPlayerThatStartsLateKeepsItsPeers(t *testing.T) {
	o := origin.New(origin.Config{Segment: 500 * time.Millisecond})
	cdn := httptest.NewServer(o)
	defer cdn.Close()
	tr := startTracker(t)
	hashes := originHashes(o)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	results := make([]player.Result, 3)
	var proxies []*proxy.Server
	for v := range 3 {
		srv, err := proxy.New(ctx, proxy.Config{Playlist: cdn.URL + "/live/index.m3u8",
			Node: peer.Config{Tracker: "ws://" + tr.Addr + "/v1/ws", Loopback: true}})
		if err != nil {
			t.Fatal(err)
		}
		hs := httptest.NewServer(srv.Handler())
		defer func() { hs.Close(); srv.Close() }()
		proxies = append(proxies, srv)
		wait, play := time.Duration(0), 16*time.Second
		if v == 2 { // joins last, its player 4 s after it
			wait, play = 4*time.Second, 11*time.Second
		}
		wg.Go(func() {
			time.Sleep(wait)
			pctx, pcancel := context.WithTimeout(ctx, play)
			defer pcancel()
			results[v], _ = player.Play(pctx, player.Config{URL: hs.URL + "/live.m3u8"})
		})
		time.Sleep(time.Second)
	}
	wg.Wait()
	for v, r := range results {
		checkBytes(t, fmt.Sprintf("viewer %d", v), r, hashes)
		if r.Stalls != 0 {
			t.Errorf("viewer %d: %d stalls", v, r.Stalls)
		}
	}
	for _, rs := range proxies[2].Stats().Renditions {
		e := rs.Engine
		t.Logf("late viewer: %d segments, %d completed late, root of %d stripes, %d B from peers, %d B from the CDN (%d at the deadline)",
			e.Segments, e.LateSegments, e.Roots, e.BytesP2P, e.BytesCDN, e.CDNDeadline)
		// Without Playing 27 of 31 came late; with it 1–4 here, 6 of 31 once
		// in CI (session 21), where the start segments and a busy machine's
		// late pieces count too.
		if e.BytesP2P == 0 || e.LateSegments*4 > e.Segments {
			t.Errorf("late viewer: %d of %d segments completed from the CDN late, %d B from peers", e.LateSegments, e.Segments, e.BytesP2P)
		}
	}
}
