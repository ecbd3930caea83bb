package web_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/p2phls/p2phls/hls"
	"github.com/p2phls/p2phls/internal/browsertest"
	"github.com/p2phls/p2phls/internal/testbin"
	"github.com/p2phls/p2phls/origin"
	"github.com/p2phls/p2phls/peer"
	"github.com/p2phls/p2phls/player"
	"github.com/p2phls/p2phls/proxy"
	"github.com/p2phls/p2phls/tracker"
	"github.com/p2phls/p2phls/web"
)

// TestBrowsersAndNativePeersShareOneSwarm: two browser viewers (the wasm
// peer behind hls.js) and three native peers, 60 s of live in one swarm.
func TestBrowsersAndNativePeersShareOneSwarm(t *testing.T) {
	browsertest.Require(t)
	if !testbin.InNetns(t) {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	o := origin.New(origin.Config{})
	cdn := httptest.NewServer(o)
	defer cdn.Close()
	tr, err := tracker.Start(tracker.ServerConfig{Listen: "127.0.0.1:0", Heartbeat: 2 * time.Second, Integrity: []string{cdn.URL}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tr.Close(context.Background()) }()
	playlist, wsURL := cdn.URL+"/live/index.m3u8", "ws://"+tr.Addr+"/v1/ws"
	hashes := browsertest.Hashes(o.Segment, 200)
	// one native first (the swarm's first peer roots its stripes from the
	// CDN), the browsers, then two natives 10 s later, who find the browsers
	// there: each browser must receive from peers and upload to peers. The
	// later two are consume-only: with five uploaders and four stripes one
	// home stripe is shared, and the sharer left with no child could be a
	// browser (CI saw a browser upload nothing in sessions 7 and 17);
	// with three uploaders every home has children.
	played := make(chan player.Result, 3)
	go func() { played <- nativeViewer(ctx, playlist, wsURL, false) }()
	time.AfterFunc(10*time.Second, func() {
		for range 2 {
			go func() { played <- nativeViewer(ctx, playlist, wsURL, true) }()
		}
	})
	swarm, _ := hls.SwarmID(playlist)
	page := httptest.NewServer(web.Handler(web.Config{Playlist: playlist, Tracker: wsURL, TrackerHTTP: "http://" + tr.Addr,
		Swarm: swarm, Loopback: true}))
	defer page.Close()

	res := browsertest.Run(t, page.URL+"/", 2, 60*time.Second, "browser-swarm.png")
	for i, p := range res {
		name := fmt.Sprintf("browser %d", i)
		if len(p.Errors) > 0 || !p.Wasm || p.Stats == nil {
			t.Fatalf("%s: fatal errors %v, wasm loaded %v", name, p.Errors, p.Wasm)
		}
		if adv := p.CurrentTime - p.StartTime; adv < 45 {
			t.Errorf("%s: video advanced %.1f s in a 60 s run", name, adv)
		}
		if p.Waiting != 0 || p.Stalls != 0 {
			t.Errorf("%s: %d stalls (video waiting), %d hls.js stall errors", name, p.Waiting, p.Stalls)
		}
		if p.Stats.BytesP2P == 0 || p.Stats.BytesUploaded == 0 {
			t.Errorf("%s: %d bytes from peers, %d uploaded: want both > 0", name, p.Stats.BytesP2P, p.Stats.BytesUploaded)
		}
		browsertest.CheckFed(t, name, p.Fed, hashes, 20)
		t.Logf("%s: %d segments fed to hls.js, %d B from peers, %d B from the CDN, %d B uploaded, %d links",
			name, len(p.Fed), p.Stats.BytesP2P, p.Stats.BytesCDN, p.Stats.BytesUploaded, p.Stats.Peers)
	}
	cancel()
	for range 3 {
		r := <-played
		if r.Stalls != 0 || len(r.Segments) < 10 {
			t.Errorf("a native viewer stalled %d times, played %d segments", r.Stalls, len(r.Segments))
		}
	}
}

// nativeViewer is a native peer (its proxy) read by a model player until ctx ends.
func nativeViewer(ctx context.Context, playlist, wsURL string, consumeOnly bool) player.Result {
	srv, err := proxy.New(ctx, proxy.Config{Playlist: playlist, Node: peer.Config{Tracker: wsURL, Loopback: true, ConsumeOnly: consumeOnly}})
	if err != nil {
		return player.Result{}
	}
	defer srv.Close()
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	r, _ := player.Play(ctx, player.Config{URL: hs.URL + "/live.m3u8"})
	return r
}
