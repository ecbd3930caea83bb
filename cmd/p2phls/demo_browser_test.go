package main

import (
	"bufio"
	"os/exec"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/p2phls/p2phls/internal/browsertest"
	"github.com/p2phls/p2phls/internal/testbin"
	"github.com/p2phls/p2phls/origin"
)

// The demo as a new user meets it: `make demo` is `make build` then
// `bin/p2phls demo` with no flags; this runs that binary the same way (in a
// network namespace of its own, so the default ports are free), opens
// http://127.0.0.1:8080/ in headless Chromium, and keeps a screenshot.
func TestDemoPageInBrowser(t *testing.T) {
	browsertest.Require(t)
	if !testbin.InNetns(t) {
		return
	}
	cmd := exec.Command(binPath, "demo")
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Signal(syscall.SIGTERM); _ = cmd.Wait() }()
	page := ""
	sc := bufio.NewScanner(out)
	for page == "" && sc.Scan() {
		if f := regexp.MustCompile(`^\s+web page\s+(\S+)`).FindStringSubmatch(sc.Text()); f != nil {
			page = f[1]
		}
	}
	go func() { // keep the pipe drained
		for sc.Scan() {
		}
	}()
	if page != "http://127.0.0.1:8080/" {
		t.Fatalf("the demo's page is at %q, the README says http://127.0.0.1:8080/", page)
	}
	res := browsertest.Run(t, page, 1, 30*time.Second, "demo-page.png")
	p := res[0]
	if len(p.Errors) > 0 || !p.Wasm || p.Stats == nil {
		t.Fatalf("fatal errors %v, wasm loaded %v", p.Errors, p.Wasm)
	}
	if adv := p.CurrentTime - p.StartTime; adv < 20 {
		t.Errorf("video advanced %.1f s in 30 s", adv)
	}
	if p.ChartP2P == 0 || p.Stats.BytesP2P == 0 {
		t.Errorf("no P2P bytes in the chart (%d) or the counters (%d)", p.ChartP2P, p.Stats.BytesP2P)
	}
	o := origin.New(origin.Config{}) // the demo's origin: the same segments, byte for byte
	browsertest.CheckFed(t, "demo page", p.Fed, browsertest.Hashes(o.Segment, 100), 10)
	t.Logf("demo page: %d segments, %d B from peers (%d drawn), %d B from the CDN, %d links",
		len(p.Fed), p.Stats.BytesP2P, p.ChartP2P, p.Stats.BytesCDN, p.Stats.Peers)
}
