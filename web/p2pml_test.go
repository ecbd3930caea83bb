package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/p2phls/p2phls/internal/browsertest"
	"github.com/p2phls/p2phls/internal/testbin"
	"github.com/p2phls/p2phls/origin"
	"github.com/p2phls/p2phls/tracker"
)

// Two headless Chromium pages (the second 8 s later, two segments further
// behind live, as viewers arrive) running stock p2p-media-loader v2 with hls.js
// (npm p2p-media-loader-core/-hlsjs 2.3.1, unmodified) against our tracker's
// /announce and our origin: they find each other through it and exchange
// segments peer to peer (their own events count the bytes), and every
// fragment hls.js loaded is byte-identical to the origin's.
func TestP2PMediaLoaderThroughOurTracker(t *testing.T) {
	browsertest.Require(t)
	if _, err := os.Stat("e2e/p2pml/dist/p2pml.js"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("p2p-media-loader bundle not built: run `make e2e-bundle`")
		}
		t.Skip("p2p-media-loader bundle not built: run `make e2e-bundle`")
	}
	if !testbin.InNetns(t) {
		return
	}
	o, playlist, tr := liveAndTracker(t)
	page := p2pmlPage(t, playlist, "ws://"+tr.Addr+"/announce")

	var res struct {
		Pages []struct {
			CurrentTime         float64
			P2P, HTTP, Uploaded int64
			Peers               int
			Errors              []string
			Fed                 []browsertest.Fed
		} `json:"pages"`
	}
	browsertest.Script(t, &res, "web/e2e/p2pml.mjs", "--url", page.URL+"/", "--pages", "2", "--seconds", "40", "--stagger", "8")
	hashes := browsertest.Hashes(o.Segment, 200)
	var p2p, up int64
	for i, p := range res.Pages {
		name := fmt.Sprintf("p2p-media-loader page %d", i)
		if len(p.Errors) > 0 || p.CurrentTime < 20 {
			t.Errorf("%s: fatal errors %v, video at %.1f s after 45 s", name, p.Errors, p.CurrentTime)
		}
		browsertest.CheckFed(t, name, p.Fed, hashes, 10)
		p2p += p.P2P
		up += p.Uploaded
		t.Logf("%s: %d peers, %d B from peers, %d B by HTTP, %d B uploaded, %d fragments", name, p.Peers, p.P2P, p.HTTP, p.Uploaded, len(p.Fed))
	}
	if p2p == 0 || up == 0 {
		t.Fatalf("no bytes exchanged peer to peer (%d received, %d uploaded): the pages never met through /announce", p2p, up)
	}
}

// liveAndTracker starts the test origin and a tracker (closed with the test).
func liveAndTracker(t *testing.T) (*origin.Origin, string, *tracker.Server) {
	t.Helper()
	return liveAndTrackerWith(t, origin.Config{})
}

// liveAndTrackerWith is liveAndTracker with the origin's configuration.
func liveAndTrackerWith(t *testing.T, cfg origin.Config) (*origin.Origin, string, *tracker.Server) {
	t.Helper()
	o := origin.New(cfg)
	cdn := httptest.NewServer(o)
	t.Cleanup(cdn.Close)
	tr, err := tracker.Start(tracker.ServerConfig{Listen: "127.0.0.1:0", Heartbeat: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.Close(context.Background()) })
	return o, cdn.URL + "/live/index.m3u8", tr
}

// p2pmlPage serves the stock p2p-media-loader page (e2e/p2pml) for a stream
// and a WebTorrent tracker URL.
func p2pmlPage(t *testing.T, playlist, announce string) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /config.json", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]string{"playlist": playlist, "tracker": announce})
	})
	mux.Handle("GET /p2pml.js", http.FileServer(http.Dir("e2e/p2pml/dist")))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { http.ServeFile(w, r, "e2e/p2pml/page.html") })
	page := httptest.NewServer(mux)
	t.Cleanup(page.Close)
	return page
}
