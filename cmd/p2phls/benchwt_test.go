package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/p2phls/p2phls/bench"
	"github.com/p2phls/p2phls/internal/testbin"
)

// `p2phls bench tracker --protocol webtorrent` at a small scale: the same
// load against our /announce and bittorrent-tracker's server. Both answer
// every announce and hand each of the 5 offers of an announce to another
// member of the swarm — the protocol behaves the same on both — and every
// figure the comparison needs is read.
func TestWebTorrentTrackerBenchBothServers(t *testing.T) {
	testbin.Require(t, "node")
	root, _ := filepath.Abs("../..")
	if _, err := os.Stat(filepath.Join(root, "node_modules/bittorrent-tracker/server.js")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("npm bittorrent-tracker not installed (npm ci): %v", err)
		}
		t.Skip("npm bittorrent-tracker not installed: npm ci")
	}
	cmd := exec.Command(binPath, "bench", "tracker", "--protocol", "webtorrent", "--clients", "300", "--step", "1s", "--settle", "1s",
		"--start-rate", "400", "--max-rate", "600", "--offer-rates", "100", "--json")
	cmd.Dir = root
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, out)
	}
	var rep struct {
		Servers []bench.WTReport `json:"servers"`
		Ratios  map[string]float64
	}
	if err := json.Unmarshal(out, &rep); err != nil || len(rep.Servers) != 2 {
		t.Fatalf("report: %v\n%s", err, out)
	}
	for _, s := range rep.Servers {
		// memory per peer is a figure at scale (5,000 clients): with 300 a
		// collection in the server can make it negative, so only its reading is checked
		if s.RSSBaseMB <= 0 || s.MaxPlainRate < 400 || len(s.Offered) != 1 || s.Offered[0].CPUUS <= 0 {
			t.Errorf("%s: nothing measured: %+v", s.Name, s)
			continue
		}
		o := s.Offered[0]
		if o.Answered < 0.999 || o.Failures != 0 || o.OffersIn < int64(o.Sent)*5*99/100 {
			t.Errorf("%s: %d announces with 5 offers: answered %.3f, %d failures, %d offers handed over (want %d)",
				s.Name, o.Sent, o.Answered, o.Failures, o.OffersIn, 5*o.Sent)
		}
		t.Logf("%s: %.0f B per idle peer, %d plain announces/s held, %.0f µs CPU per announce with 5 offers", s.Name, s.RSSPerPeer, s.MaxPlainRate, s.Offered[0].CPUUS)
	}
	if len(rep.Ratios) < 3 {
		t.Errorf("ratios: %v", rep.Ratios)
	}
}

// A server of `bench tracker --servers` may carry its own environment, to
// compare settings of one server in one run; a malformed one is refused.
func TestBenchServerSpec(t *testing.T) {
	for _, c := range []struct {
		spec, name string
		env        []string
		bad        bool
	}{
		{spec: "p2phls", name: "p2phls"},
		{spec: "p2phls:GOMAXPROCS=1", name: "p2phls", env: []string{"GOMAXPROCS=1"}},
		{spec: "bittorrent-tracker:UV_THREADPOOL_SIZE=1+NODE_ENV=production", name: "bittorrent-tracker",
			env: []string{"UV_THREADPOOL_SIZE=1", "NODE_ENV=production"}},
		{spec: "p2phls:", bad: true},
		{spec: "p2phls:GOGC", bad: true},
		{spec: "p2phls:=1", bad: true},
	} {
		name, env, err := serverSpec(c.spec)
		if (err != nil) != c.bad || name != c.name || !slices.Equal(env, c.env) {
			t.Errorf("%q: got %q %q %v", c.spec, name, env, err)
		}
	}
	if _, err := wtServer("p2phls:GOGC", "p2phls", "bench/bt-tracker.mjs"); err == nil {
		t.Error("a malformed environment was accepted")
	}
}
