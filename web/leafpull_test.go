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

// TestBrowsersPullTheStripesTheyRoot: the page's viewer options reach the
// wasm peer. One native viewer uploads the stream's rate (three stripe
// children at most); two browsers, configured by the page with a quarter of
// it (no stripe child), leaf pulls and a 4 s deadline, root the stripes it
// cannot feed them and pull those from it (leaf_pulls in their stats)
// instead of the CDN. What hls.js gets is still the origin's bytes, with no
// stall.
func TestBrowsersPullTheStripesTheyRoot(t *testing.T) {
	browsertest.Require(t)
	if !testbin.InNetns(t) {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	o := origin.New(origin.Config{})
	cdn := httptest.NewServer(o)
	defer cdn.Close()
	tr, err := tracker.Start(tracker.ServerConfig{Listen: "127.0.0.1:0", Heartbeat: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tr.Close(context.Background()) }()
	playlist, wsURL := cdn.URL+"/live/index.m3u8", "ws://"+tr.Addr+"/v1/ws"
	rate := int64(len(o.Segment(3))) / 2 // bytes/s of 2 s segments
	played := make(chan player.Result, 1)
	go func() {
		srv, err := proxy.New(ctx, proxy.Config{Playlist: playlist, Node: peer.Config{Tracker: wsURL, Loopback: true, MaxUpload: 2 * rate}})
		if err != nil {
			played <- player.Result{}
			return
		}
		defer srv.Close()
		hs := httptest.NewServer(srv.Handler())
		defer hs.Close()
		r, _ := player.Play(ctx, player.Config{URL: hs.URL + "/live.m3u8"})
		played <- r
	}()
	swarm, _ := hls.SwarmID(playlist)
	page := httptest.NewServer(web.Handler(web.Config{Playlist: playlist, Tracker: wsURL, TrackerHTTP: "http://" + tr.Addr,
		Swarm: swarm, Loopback: true, UploadCap: rate / 4, LeafPull: true, DeadlineMS: 4000}))
	defer page.Close()

	res := browsertest.Run(t, page.URL+"/", 2, 40*time.Second, "browser-leafpull.png")
	hashes := browsertest.Hashes(o.Segment, 200)
	var pulls int64
	for i, p := range res {
		name := fmt.Sprintf("browser %d", i)
		if len(p.Errors) > 0 || !p.Wasm || p.Stats == nil {
			t.Fatalf("%s: fatal errors %v, wasm loaded %v", name, p.Errors, p.Wasm)
		}
		if p.Waiting != 0 || p.Stalls != 0 {
			t.Errorf("%s: %d stalls (video waiting), %d hls.js stall errors", name, p.Waiting, p.Stalls)
		}
		if p.Stats.BytesP2P == 0 {
			t.Errorf("%s: no bytes from peers", name)
		}
		browsertest.CheckFed(t, name, p.Fed, hashes, 12)
		t.Logf("%s: %d leaf pulls, root of %d stripes, %d B from peers, %d B from the CDN (%d at the deadline), %d B uploaded",
			name, p.Stats.LeafPulls, p.Stats.Roots, p.Stats.BytesP2P, p.Stats.BytesCDN, p.Stats.CDNDeadline, p.Stats.BytesUploaded)
		pulls += p.Stats.LeafPulls
	}
	if pulls == 0 {
		t.Error("no leaf pulls: the browsers did not take the page's leafPull option")
	}
	cancel()
	if r := <-played; r.Stalls != 0 || len(r.Segments) < 10 {
		t.Errorf("the native viewer stalled %d times, played %d segments", r.Stalls, len(r.Segments))
	}
}
