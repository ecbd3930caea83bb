package web_test

import (
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/p2phls/p2phls/hls"
	"github.com/p2phls/p2phls/internal/browsertest"
	"github.com/p2phls/p2phls/internal/plot"
	"github.com/p2phls/p2phls/internal/testbin"
	"github.com/p2phls/p2phls/origin"
	"github.com/p2phls/p2phls/web"
)

// abPages is how many browser viewers each arm has: what this 2-core machine
// holds with the video decoding in every page (P2PHLS_AB_PAGES overrides;
// P2PHLS_AB_SECONDS the 60 s each arm plays; P2PHLS_AB_SEGMENT, say 500ms,
// plays a clip cut by ffmpeg into segments of that length instead of the
// built-in 2 s one; P2PHLS_AB_UTILIZATION sets the p2phls page's;
// AB_PROFILE=i logs the top of a CPU profile of page i's first 15 s).
const abPages = 4

type abArm struct {
	Arm   string `json:"arm"`
	Pages []struct {
		CurrentTime     float64
		P2P, CDN        int64
		Uploaded        int64
		Direct          int64 // p2phls: what hls.js loaded itself before the peer was up
		Deadline        int64 // p2phls: the peer's deadline completions from the CDN
		Waiting, Stalls int
		Errors          []string
		Fed             []browsertest.Fed
	} `json:"pages"`
	Timeline []struct {
		T        float64 `json:"t"`
		P2P, CDN int64
	} `json:"timeline"`
	Traces []struct {
		Page   int      `json:"page"`
		Events []string `json:"events"`
	} `json:"traces"` // hls.js's events on a p2phls page that stalled
}

func (a abArm) totals() (p2p, cdn int64, stalls int) {
	for _, p := range a.Pages {
		p2p, cdn, stalls = p2p+p.P2P, cdn+p.CDN, stalls+p.Waiting+p.Stalls
	}
	return
}

// offloadOverTime: the arm's offload over each 10 s (5 samples) of the run.
func (a abArm) offloadOverTime() [][2]float64 {
	var out [][2]float64
	for i := 5; i < len(a.Timeline); i++ {
		p, q := a.Timeline[i-5], a.Timeline[i]
		if d := (q.P2P - p.P2P) + (q.CDN - p.CDN); d > 0 {
			out = append(out, [2]float64{q.T, float64(q.P2P-p.P2P) / float64(d)})
		}
	}
	return out
}

// TestSwarmABAgainstP2PMediaLoader: one live stream, the same number of
// browser viewers, default player settings, the same tracker process: first
// every viewer runs the p2phls page (wasm peer behind hls.js), then every
// viewer runs stock p2p-media-loader v2 + hls.js (through our /announce).
// Both arms must play with the origin's bytes; their offload and stalls are
// reported side by side (docs/BENCHMARKS.md), with a plot of offload over
// time in test-artifacts/ab-offload.svg. Neither arm verifies digests (p2p-
// media-loader cannot), so the tracker runs without --integrity.
func TestSwarmABAgainstP2PMediaLoader(t *testing.T) {
	browsertest.Require(t)
	if _, err := os.Stat("e2e/p2pml/dist/p2pml.js"); err != nil {
		t.Fatal("p2p-media-loader bundle not built: run `make e2e-bundle`")
	}
	if !testbin.InNetns(t) {
		return
	}
	pages, secs := abPages, 60
	if n, err := strconv.Atoi(os.Getenv("P2PHLS_AB_PAGES")); err == nil && n > 0 {
		pages = n
	}
	if n, err := strconv.Atoi(os.Getenv("P2PHLS_AB_SECONDS")); err == nil && n > 0 {
		secs = n
	}
	var ocfg origin.Config
	if d, err := time.ParseDuration(os.Getenv("P2PHLS_AB_SEGMENT")); err == nil && d > 0 {
		ocfg = origin.Config{Clip: cutClip(t, d), Segment: d, Window: int(12 * time.Second / d)}
	}
	u, _ := strconv.ParseFloat(os.Getenv("P2PHLS_AB_UTILIZATION"), 64)
	o, playlist, tr := liveAndTrackerWith(t, ocfg)
	swarm, _ := hls.SwarmID(playlist)
	ours := httptest.NewServer(web.Handler(web.Config{Playlist: playlist, Tracker: "ws://" + tr.Addr + "/v1/ws",
		TrackerHTTP: "http://" + tr.Addr, Swarm: swarm, Loopback: true, Utilization: u}))
	defer ours.Close()
	theirs := p2pmlPage(t, playlist, "ws://"+tr.Addr+"/announce")

	n := int64(300) // segments published in the run, at most
	if ocfg.Segment > 0 {
		n *= int64(2 * time.Second / ocfg.Segment)
	}
	hashes := browsertest.Hashes(o.Segment, n)
	var arms []abArm
	for _, a := range []struct{ name, url string }{{"p2phls", ours.URL + "/"}, {"p2pml", theirs.URL + "/"}} {
		if only := os.Getenv("P2PHLS_AB_ARM"); only != "" && only != a.name {
			continue // one arm alone, for a quick look (not for the A/B's figures)
		}
		var res abArm
		browsertest.Script(t, &res, "web/e2e/ab.mjs", "--arm", a.name, "--url", a.url, "--pages", strconv.Itoa(pages),
			"--seconds", strconv.Itoa(secs))
		for i, p := range res.Pages {
			name := fmt.Sprintf("%s page %d", a.name, i)
			if len(p.Errors) > 0 || p.CurrentTime < float64(secs)/2 {
				t.Errorf("%s: fatal errors %v, video at %.1f s after %d s", name, p.Errors, p.CurrentTime, secs)
			}
			browsertest.CheckFed(t, name, p.Fed, hashes, 10)
			t.Logf("%s: %d B from peers, %d B from the CDN (%d B by hls.js itself, %d B deadline completions), %d B uploaded, %d waiting, %d stalls",
				name, p.P2P, p.CDN, p.Direct, p.Deadline, p.Uploaded, p.Waiting, p.Stalls)
		}
		p2p, c, stalls := res.totals()
		if p2p == 0 {
			t.Errorf("%s: no byte from peers in %d pages", a.name, pages)
		}
		t.Logf("%s: %d pages, %d s: offload %.3f (%d B from peers, %d B from the CDN), %d stalls", a.name, pages, secs,
			float64(p2p)/float64(max(1, p2p+c)), p2p, c, stalls)
		var w []string
		for i, p := range res.offloadOverTime() {
			if i%5 == 4 {
				w = append(w, fmt.Sprintf("%.0f s %.2f", p[0], p[1]))
			}
		}
		t.Logf("%s: offload over the last 10 s, every 10 s: %s", a.name, strings.Join(w, ", "))
		for _, tr := range res.Traces {
			t.Logf("%s page %d stalled; its player's last events (s since the first page opened):\n%s", a.name, tr.Page, strings.Join(tr.Events, "\n"))
		}
		arms = append(arms, res)
	}
	writeABPlot(t, arms, pages)
}

// cutClip encodes the test clip of scripts/make-clip.sh in segments of d,
// at 24 frames a second (d must be a whole number of frames).
func cutClip(t *testing.T, d time.Duration) *origin.Clip {
	t.Helper()
	testbin.Require(t, "ffmpeg")
	dir := t.TempDir()
	out, err := exec.Command("bash", "../scripts/make-clip.sh", dir, strconv.FormatFloat(d.Seconds(), 'f', -1, 64), "24").CombinedOutput()
	if err != nil {
		t.Fatalf("P2PHLS_AB_SEGMENT %v: make-clip.sh: %v: %s", d, err, out)
	}
	clip, err := origin.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("clip: %d segments of %v cut by ffmpeg", len(clip.Segments), d)
	return clip
}

func writeABPlot(t *testing.T, arms []abArm, pages int) {
	dir := os.Getenv("P2PHLS_ARTIFACTS")
	if dir == "" {
		dir = "../test-artifacts"
	}
	colors := map[string]string{"p2phls": "#1a7f37", "p2pml": "#cf222e"}
	var series []plot.Series
	for _, a := range arms {
		p2p, c, stalls := a.totals()
		series = append(series, plot.Series{Name: fmt.Sprintf("%s: offload %.2f, %d stalls", a.Arm, float64(p2p)/float64(max(1, p2p+c)), stalls),
			Color: colors[a.Arm], Points: a.offloadOverTime()})
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Error(err)
		return
	}
	f, err := os.Create(filepath.Join(dir, "ab-offload.svg"))
	if err != nil {
		t.Error(err)
		return
	}
	defer f.Close()
	if err := plot.Lines(f, fmt.Sprintf("%d browser viewers, one live stream: offload over the last 10 s", pages), "s", series); err != nil {
		t.Error(err)
	}
	t.Logf("plot: %s", f.Name())
}
