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

// TestLeafRootsPullInARealSwarm: five viewers over pion on loopback, every
// one with `p2phls peer --leaf-pull --deadline 3s`; one uploads 4x the
// stream, the others a quarter of it (too little for one stripe-child), so
// they root the stripes that viewer does not feed them, with no child in
// them. They ask it for those stripes (leaf_pulls in their stats) instead of
// the CDN, and every player still gets every segment byte for byte, with no
// stall.
func TestLeafRootsPullInARealSwarm(t *testing.T) {
	const viewers = 5
	o := origin.New(origin.Config{Segment: time.Second})
	cdn := httptest.NewServer(o)
	defer cdn.Close()
	tr := startTracker(t)
	hashes := originHashes(o)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	results := make([]player.Result, viewers)
	var proxies []*proxy.Server
	rate := int64(len(o.Segment(3))) // bytes/s of 1 s segments
	for v := range viewers {
		up := int64(0) // 4x the stream
		if v > 0 {
			up = rate / 4
		}
		srv, err := proxy.New(ctx, proxy.Config{Playlist: cdn.URL + "/live/index.m3u8",
			Node: peer.Config{Tracker: "ws://" + tr.Addr + "/v1/ws", Loopback: true, LeafPull: true, Deadline: 3 * time.Second, MaxUpload: up}})
		if err != nil {
			t.Fatal(err)
		}
		hs := httptest.NewServer(srv.Handler())
		defer func() { hs.Close(); srv.Close() }()
		proxies = append(proxies, srv)
		wg.Go(func() {
			pctx, pcancel := context.WithTimeout(ctx, 20*time.Second)
			defer pcancel()
			results[v], _ = player.Play(pctx, player.Config{URL: hs.URL + "/live.m3u8"})
		})
	}
	wg.Wait()
	var pulls, p2p int64
	for v, r := range results {
		checkBytes(t, fmt.Sprintf("viewer %d", v), r, hashes)
		if r.Stalls != 0 {
			t.Errorf("viewer %d: %d stalls", v, r.Stalls)
		}
		for _, rs := range proxies[v].Stats().Renditions {
			e := rs.Engine
			t.Logf("viewer %d: %d leaf pulls, root of %d stripes, %d B from peers, %d B from the CDN (%d at the deadline)",
				v, e.LeafPulls, e.Roots, e.BytesP2P, e.BytesCDN, e.CDNDeadline)
			pulls, p2p = pulls+e.LeafPulls, p2p+e.BytesP2P
		}
	}
	if pulls == 0 || p2p == 0 {
		t.Fatalf("%d leaf pulls, %d bytes from peers: no leaf root pulled from its neighbours", pulls, p2p)
	}
}
