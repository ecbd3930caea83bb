package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/p2phls/p2phls/bench"
	"github.com/p2phls/p2phls/internal/redistest"
)

var binPath string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "p2phls-bin")
	if err != nil {
		panic(err)
	}
	binPath = filepath.Join(dir, "p2phls")
	if p := os.Getenv("P2PHLS_TEST_BIN"); p != "" { // a test re-run in a network namespace: built already
		binPath = p
		os.Exit(m.Run())
	}
	os.Setenv("P2PHLS_TEST_BIN", binPath)
	if out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput(); err != nil {
		panic(fmt.Sprintf("build: %v\n%s", err, out))
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// startProc runs the binary and returns it with the address it logged.
func startProc(t *testing.T, args ...string) (*exec.Cmd, string) {
	t.Helper()
	p, err := bench.StartListener(binPath, args...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)
	return p.Cmd, p.Addr
}

func wsJoin(t *testing.T, addr, swarm string) (*websocket.Conn, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws://"+addr+"/v1/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	if err := wsjson.Write(ctx, c, map[string]string{"type": "join", "swarm": swarm}); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := wsjson.Read(ctx, c, &m); err != nil || m["type"] != "joined" {
		t.Fatalf("join: %v %v", m, err)
	}
	return c, m["peer"].(string)
}

func swarmPeers(t *testing.T, addr, swarm string) int {
	resp, err := http.Get("http://" + addr + "/v1/swarms/" + swarm)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == 404 {
		return 0
	}
	var m struct{ Peers int }
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("swarm: %s", b)
	}
	return m.Peers
}

// Two tracker processes on one Redis: a node killed without a goodbye takes
// its peers out of the registry within two heartbeats; SIGTERM tells the peers.
func TestTrackerProcessesOnRedis(t *testing.T) {
	rs := redistest.Start(t)
	hb := 500 * time.Millisecond
	procA, a := startProc(t, "tracker", "--listen", "127.0.0.1:0", "--redis", rs.URL, "--heartbeat", hb.String())
	procB, b := startProc(t, "tracker", "--listen", "127.0.0.1:0", "--redis", rs.URL, "--heartbeat", hb.String())
	ca, idA := wsJoin(t, a, "kill")
	cb, idB := wsJoin(t, b, "kill")
	if n := swarmPeers(t, b, "kill"); n != 2 {
		t.Fatalf("node B counts %d peers, want 2", n)
	}
	relay(t, ca, cb, idB, idA) // A → B
	relay(t, cb, ca, idA, idB) // B → A
	killed := time.Now()
	_ = procA.Process.Signal(syscall.SIGKILL)
	for swarmPeers(t, b, "kill") != 1 {
		if time.Since(killed) > 2*hb+time.Second {
			t.Fatalf("peer of a killed node still listed after %v", time.Since(killed))
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("peer of killed node gone after %v (heartbeat %v)", time.Since(killed), hb)

	_ = procB.Process.Signal(syscall.SIGTERM)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var m map[string]any
	if err := wsjson.Read(ctx, cb, &m); err != nil || m["type"] != "shutdown" {
		t.Fatalf("on SIGTERM the peer got %v, %v; want a shutdown notice", m, err)
	}
	if err := procB.Wait(); err != nil {
		t.Fatalf("tracker exit after SIGTERM: %v", err)
	}
}

// The tracker sets Go's GC target from --gc-percent (50 by default) unless
// GOGC is in its environment; /metrics shows what the runtime took.
func TestTrackerGCPercent(t *testing.T) {
	gogc := func(addr string) string {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return regexp.MustCompile(`(?m)^go_gc_gogc_percent (\S+)`).FindStringSubmatch(string(body) + "\ngo_gc_gogc_percent missing")[1]
	}
	if _, a := startProc(t, "tracker", "--listen", "127.0.0.1:0"); gogc(a) != "50" {
		t.Errorf("default: GOGC %s, want 50", gogc(a))
	}
	if _, a := startProc(t, "tracker", "--listen", "127.0.0.1:0", "--gc-percent", "80"); gogc(a) != "80" {
		t.Errorf("--gc-percent 80: GOGC %s", gogc(a))
	}
	t.Setenv("GOGC", "120")
	if _, a := startProc(t, "tracker", "--listen", "127.0.0.1:0", "--gc-percent", "80"); gogc(a) != "120" {
		t.Errorf("GOGC=120 in the environment: GOGC %s, want 120", gogc(a))
	}
}

func TestEnvOverridesFlags(t *testing.T) {
	t.Setenv("P2PHLS_LISTEN", "127.0.0.1:0")
	t.Setenv("P2PHLS_HEARTBEAT", "not-a-duration")
	err := run(context.Background(), []string{"tracker"}, io.Discard)
	if err == nil || !regexp.MustCompile(`P2PHLS_HEARTBEAT`).MatchString(err.Error()) {
		t.Fatalf("bad env value: err = %v, want it named", err)
	}
}

// The demo starts the origin and the tracker and says where they are.
func TestDemoStartsOriginAndTracker(t *testing.T) {
	cmd := exec.Command(binPath, "demo", "--origin", "127.0.0.1:0", "--tracker", "127.0.0.1:0", "--web", "127.0.0.1:0",
		"--viewer-listen", "127.0.0.1:0", "--viewers", "2")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	urls := map[string]string{}
	sc := bufio.NewScanner(out)
	for len(urls) < 5 && sc.Scan() {
		f := regexp.MustCompile(`^\s+(web page|live playlist|tracker|viewer \d)\s+(\S+)`).FindStringSubmatch(sc.Text())
		if f != nil {
			urls[f[1]] = f[2]
		}
	}
	resp, err := http.Get(urls["live playlist"])
	if err != nil {
		t.Fatalf("playlist from %v: %v", urls, err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !regexp.MustCompile(`#EXTINF:2.000,\nseg5.ts`).Match(b) {
		t.Fatalf("playlist: %d %s", resp.StatusCode, b)
	}
	// the page is told the stream, the tracker and the swarm
	resp, err = http.Get(urls["web page"] + "config.json")
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `"playlist":"`+urls["live playlist"]+`"`) || !strings.Contains(string(b), `"swarm":"live~index.m3u8-ab8abe107fb6"`) {
		t.Fatalf("config.json: %s", b)
	}
	trackerHTTP := regexp.MustCompile(`^ws://(.*)/v1/ws$`).FindStringSubmatch(urls["tracker"])
	if trackerHTTP == nil {
		t.Fatalf("tracker URL %q", urls["tracker"])
	}
	wsJoin(t, trackerHTTP[1], "demo")
	if n := swarmPeers(t, trackerHTTP[1], "demo"); n != 1 {
		t.Fatalf("demo tracker counts %d peers", n)
	}
	// the two viewers serve the stream and joined one swarm
	for _, v := range []string{"viewer 0", "viewer 1"} {
		resp, err := http.Get(urls[v])
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !regexp.MustCompile(`seg/\d+\.ts`).Match(b) {
			t.Fatalf("%s playlist: %d %s", v, resp.StatusCode, b)
		}
	}
	if n := swarmPeers(t, trackerHTTP[1], "live~index.m3u8-ab8abe107fb6"); n != 2 {
		t.Fatalf("viewers' swarm has %d peers, want 2", n)
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("demo exit after SIGTERM: %v\n%s", err, lastLines(stderr.String(), 20))
	}
}

// relay sends a signal from conn (peer fromID) to peer toID and checks that
// conn to receives it from fromID.
func relay(t *testing.T, from, to *websocket.Conn, toID, fromID string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := wsjson.Write(ctx, from, map[string]any{"type": "signal", "to": toID, "data": map[string]string{"sdp": "x"}}); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := wsjson.Read(ctx, to, &m); err != nil || m["type"] != "signal" || m["from"] != fromID {
		t.Fatalf("relay across nodes: got %v, %v", m, err)
	}
}

// lastLines is the end of a log, for a failure message.
func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(l[max(0, len(l)-n):], "\n")
}
