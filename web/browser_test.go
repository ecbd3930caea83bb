package web_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/p2phls/p2phls/hls"
	"github.com/p2phls/p2phls/internal/testbin"
	"github.com/p2phls/p2phls/origin"
	"github.com/p2phls/p2phls/peer"
	"github.com/p2phls/p2phls/player"
	"github.com/p2phls/p2phls/proxy"
	"github.com/p2phls/p2phls/tracker"
	"github.com/p2phls/p2phls/web"
)

// pageResult is what web/e2e/viewers.mjs reports for one page.
type pageResult struct {
	StartTime   float64  `json:"startTime"`
	CurrentTime float64  `json:"currentTime"`
	Errors      []string `json:"errors"`
	Waiting     int      `json:"waiting"`
	Stalls      int      `json:"stalls"`
	Wasm        bool     `json:"wasm"`
	Stats       *struct {
		BytesCDN      int64 `json:"bytes_cdn"`
		BytesP2P      int64 `json:"bytes_p2p"`
		BytesUploaded int64 `json:"bytes_uploaded"`
		Peers         int   `json:"peers"`
	} `json:"stats"`
	Fed []struct {
		URL    string `json:"url"`
		SHA256 string `json:"sha256"`
		Source string `json:"source"`
	} `json:"fed"`
}

// requireBrowser returns the chromium path, or ends the test (skip locally,
// fail under CI=true) when the browser side cannot run.
func requireBrowser(t *testing.T) {
	t.Helper()
	testbin.Require(t, "chromium")
	testbin.Require(t, "node")
	_, err := os.Stat("../node_modules/playwright-core")
	if err != nil || !web.Built() {
		if os.Getenv("CI") == "true" {
			t.Fatalf("browser side not built (run `make web`): playwright-core %v, wasm built %v", err, web.Built())
		}
		t.Skip("browser side not built: run `make web`")
	}
}

// TestBrowsersAndNativePeersShareOneSwarm: two browser viewers (the wasm
// peer behind hls.js) and three native peers, 60 s of live in one swarm.
func TestBrowsersAndNativePeersShareOneSwarm(t *testing.T) {
	requireBrowser(t)
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
	hashes := map[string]int64{}
	for n := int64(0); n < 200; n++ {
		s := sha256.Sum256(o.Segment(n))
		hashes[hex.EncodeToString(s[:])] = n
	}
	natives := make([]*proxy.Server, 3)
	played := make(chan player.Result, 3)
	for i := range natives {
		srv, err := proxy.New(ctx, proxy.Config{Playlist: playlist, Node: peer.Config{Tracker: wsURL, Loopback: true}})
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Close()
		hs := httptest.NewServer(srv.Handler())
		defer hs.Close()
		natives[i] = srv
		go func() {
			pctx, pcancel := context.WithTimeout(ctx, 75*time.Second)
			defer pcancel()
			r, _ := player.Play(pctx, player.Config{URL: hs.URL + "/live.m3u8"})
			played <- r
		}()
	}
	swarm, _ := hls.SwarmID(playlist)
	page := httptest.NewServer(web.Handler(web.Config{Playlist: playlist, Tracker: wsURL, TrackerHTTP: "http://" + tr.Addr,
		Swarm: swarm, Loopback: true}))
	defer page.Close()

	res := runPages(t, page.URL+"/", 2, 60*time.Second, "browser-swarm.png")
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
		checkFed(t, name, p, hashes)
		t.Logf("%s: %d segments fed to hls.js, %d B from peers, %d B from the CDN, %d B uploaded, %d links",
			name, len(p.Fed), p.Stats.BytesP2P, p.Stats.BytesCDN, p.Stats.BytesUploaded, p.Stats.Peers)
	}
	cancel()
	for range natives {
		if r := <-played; r.Stalls != 0 {
			t.Errorf("a native viewer stalled %d times", r.Stalls)
		}
	}
}

// checkFed: every segment hls.js got is byte-identical to the origin's, in
// order, none skipped.
func checkFed(t *testing.T, name string, p pageResult, hashes map[string]int64) {
	t.Helper()
	if len(p.Fed) < 20 {
		t.Fatalf("%s: only %d segments fed to hls.js", name, len(p.Fed))
	}
	prev := int64(-1)
	for i, f := range p.Fed {
		n, ok := hashes[f.SHA256]
		if !ok {
			t.Fatalf("%s: segment %d (%s, via %s) is not byte-identical to any origin segment", name, i, f.URL, f.Source)
		}
		if prev >= 0 && n != prev+1 {
			t.Fatalf("%s: origin segment %d after %d", name, n, prev)
		}
		prev = n
	}
}

// runPages drives the page in headless Chromium (web/e2e/viewers.mjs).
func runPages(t *testing.T, url string, pages int, d time.Duration, shot string) []pageResult {
	t.Helper()
	dir := os.Getenv("P2PHLS_ARTIFACTS")
	if dir == "" {
		dir = "../test-artifacts"
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	shotPath, _ := filepath.Abs(filepath.Join(dir, shot))
	cmd := exec.Command("node", "e2e/viewers.mjs", "--url", url, "--pages", fmt.Sprint(pages),
		"--seconds", fmt.Sprint(int(d.Seconds())), "--screenshot", shotPath)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("browser run: %v\n%s", err, stderr.Bytes())
	}
	var r struct {
		Pages []pageResult `json:"pages"`
		Logs  []string     `json:"logs"`
	}
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("browser run output: %v\n%s", err, out)
	}
	for _, l := range r.Logs {
		t.Log(l)
	}
	t.Logf("screenshot: %s", shotPath)
	return r.Pages
}
