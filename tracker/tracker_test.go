package tracker_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/p2phls/p2phls/internal/redistest"
	"github.com/p2phls/p2phls/tracker"
)

func TestJoinSignalPeersLeave(t *testing.T) {
	s := startServer(t, "", time.Second)
	a, b := dial(t, s.Addr), dial(t, s.Addr)
	ja := a.join("live1")
	if len(peerIDs(ja, "peers")) != 0 {
		t.Fatalf("first peer got peers %v", ja["peers"])
	}
	jb := b.join("live1")
	if got := peerIDs(jb, "peers"); len(got) != 1 || got[0] != a.ID {
		t.Fatalf("second peer got %v, want [%s]", got, a.ID)
	}
	b.signal(a.ID, map[string]any{"sdp": "offer"})
	m := a.expectSignalFrom(b.ID)
	if m["data"].(map[string]any)["sdp"] != "offer" {
		t.Fatalf("data not relayed intact: %v", m)
	}
	a.signal(b.ID, "answer")
	b.expectSignalFrom(a.ID)

	a.send(map[string]any{"type": "peers"})
	if got := peerIDs(a.next("peers"), "peers"); len(got) != 1 || got[0] != b.ID {
		t.Fatalf("peers = %v, want [%s] (never the asker)", got, b.ID)
	}
	b.send(map[string]any{"type": "leave"})
	waitFor(t, "leave removes the peer", func() bool {
		return !contains(peerIDs(getJSON(t, "http://"+s.Addr+"/v1/swarms/live1/peers", 200), "peers"), b.ID)
	})
	a.signal(b.ID, "x")
	a.expectError("unknown_peer")
}

func TestBadInput(t *testing.T) {
	s := startServer(t, "", time.Second)
	// Two good clients whose exchange must survive every bad input.
	g1, g2 := dial(t, s.Addr), dial(t, s.Addr)
	g1.join("good")
	g2.join("good")
	other := dial(t, s.Addr)
	other.join("elsewhere")
	stillWorks := func() {
		t.Helper()
		g1.signal(g2.ID, "ok")
		g2.expectSignalFrom(g1.ID)
	}
	cases := []struct {
		name string
		do   func(c *client)
		code string
	}{
		{"malformed JSON", func(c *client) { c.sendRaw([]byte(`{"type":"join",`)) }, "bad_json"},
		{"unknown type", func(c *client) { c.send(map[string]any{"type": "teleport"}) }, "unknown_type"},
		{"missing type", func(c *client) { c.send(map[string]any{"swarm": "x"}) }, "bad_message"},
		{"oversize", func(c *client) {
			c.sendRaw(fmt.Appendf(nil, `{"type":"signal","to":"x","data":"%s"}`, strings.Repeat("A", 70<<10)))
		}, "too_large"},
		{"signal before join", func(c *client) { c.signal(g1.ID, "x") }, "not_joined"},
		{"bad swarm id", func(c *client) { c.send(map[string]any{"type": "join", "swarm": "a b/../c"}) }, "bad_swarm"},
		{"signal to unknown peer", func(c *client) { c.join("good"); c.signal("nobody", "x") }, "unknown_peer"},
		{"signal to other swarm", func(c *client) { c.join("good"); c.signal(other.ID, "x") }, "unknown_peer"},
		{"join twice", func(c *client) { c.join("good"); c.send(map[string]any{"type": "join", "swarm": "good"}) }, "already_joined"},
		{"signal without data", func(c *client) { c.join("good"); c.send(map[string]any{"type": "signal", "to": g1.ID}) }, "bad_message"},
		{"negative stats", func(c *client) {
			c.join("good")
			c.send(map[string]any{"type": "stats", "stats": map[string]any{"bytes_cdn": -5}})
		}, "bad_message"},
		{"flood", func(c *client) {
			for range 150 { // over the burst of 50, under the 200 violations that close the connection
				c.send(map[string]any{"type": "ping"})
			}
		}, "rate_limited"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, s.Addr)
			c.t = t
			tc.do(c)
			c.expectError(tc.code)
			stillWorks()
		})
	}
	// The errors are counted by code.
	resp, err := http.Get("http://" + s.Addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, tc := range cases {
		if !bytes.Contains(body, []byte(`p2phls_tracker_errors_total{code="`+tc.code+`"}`)) {
			t.Errorf("metrics lack errors for code %s", tc.code)
		}
	}
	if !bytes.Contains(body, []byte("p2phls_tracker_join_seconds_bucket")) {
		t.Error("metrics lack the join latency histogram")
	}
}

func TestHTTPAPIAndStats(t *testing.T) {
	s := startServer(t, "", time.Second)
	base := "http://" + s.Addr
	getJSON(t, base+"/healthz", 200)
	getJSON(t, base+"/v1/swarms/nope", 404)
	cs := make([]*client, 4)
	for i := range cs {
		cs[i] = dial(t, s.Addr)
		cs[i].join("sw")
	}
	sw := getJSON(t, base+"/v1/swarms", 200)
	if list := sw["swarms"].([]any); len(list) != 1 || list[0].(map[string]any)["peers"].(float64) != 4 {
		t.Fatalf("/v1/swarms = %v", sw)
	}
	got := peerIDs(getJSON(t, base+"/v1/swarms/sw/peers?size=2&peer="+cs[0].ID, 200), "peers")
	if len(got) != 2 || contains(got, cs[0].ID) {
		t.Fatalf("peers?size=2 = %v (asker %s)", got, cs[0].ID)
	}
	getJSON(t, base+"/v1/swarms/sw/peers?size=-1", 400)

	// Stats over the socket and over HTTP (with the key from "joined").
	cs[1].send(map[string]any{"type": "stats", "stats": map[string]any{"bytes_cdn": 100, "bytes_p2p": 900, "stalls": 1}, "upload_capacity": 500000})
	c := dial(t, s.Addr)
	j := c.join("sw")
	post := func(key string) int {
		body := fmt.Sprintf(`{"swarm":"sw","peer":%q,"key":%q,"bytes_cdn":50,"bytes_p2p":950,"bytes_uploaded":10}`, c.ID, key)
		resp, err := http.Post(base+"/v1/stats", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post("wrong"); code != 403 {
		t.Fatalf("stats with a wrong key = %d, want 403", code)
	}
	if code := post(j["stats_key"].(string)); code != 204 {
		t.Fatalf("stats = %d, want 204", code)
	}
	waitFor(t, "stats aggregated", func() bool {
		tot := getJSON(t, base+"/v1/swarms/sw", 200)["totals"].(map[string]any)
		return tot["bytes_cdn"].(float64) == 150 && tot["bytes_p2p"].(float64) == 1850 && tot["stalls"].(float64) == 1
	})
	if off := getJSON(t, base+"/v1/swarms/sw", 200)["offload"].(float64); off != 1850.0/2000 {
		t.Fatalf("offload = %v", off)
	}
	resp, _ := http.Post(base+"/v1/stats", "application/json", strings.NewReader("{nope"))
	if resp.StatusCode != 400 {
		t.Fatalf("malformed stats = %d, want 400", resp.StatusCode)
	}
	resp.Body.Close()
	resp, _ = http.Get(base + "/metrics")
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`p2phls_swarm_bytes_p2p_total{swarm="sw"} 1850`, `p2phls_swarm_peers{swarm="sw"} 5`, "p2phls_tracker_peers_connected 5"} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func TestShutdownTellsPeersAndRemovesThem(t *testing.T) {
	srv := redistest.Start(t)
	a := startServer(t, srv.URL, time.Second)
	b := startServer(t, srv.URL, time.Second)
	ca, cb := dial(t, a.Addr), dial(t, b.Addr)
	ca.join("s")
	cb.join("s")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}
	ca.next("shutdown")
	got := peerIDs(getJSON(t, "http://"+b.Addr+"/v1/swarms/s/peers", 200), "peers")
	if len(got) != 1 || got[0] != cb.ID {
		t.Fatalf("after node A shut down, B lists %v, want only %s", got, cb.ID)
	}
}

func TestTwoNodesOnRedis(t *testing.T) {
	srv := redistest.Start(t)
	a := startServer(t, srv.URL, 300*time.Millisecond)
	b := startServer(t, srv.URL, 300*time.Millisecond)
	ca, cb := dial(t, a.Addr), dial(t, b.Addr)
	ca.join("multi")
	jb := cb.join("multi")
	if got := peerIDs(jb, "peers"); len(got) != 1 || got[0] != ca.ID {
		t.Fatalf("peer on B sees %v, want the peer on A %s", got, ca.ID)
	}
	cb.signal(ca.ID, "B to A")
	ca.expectSignalFrom(cb.ID)
	ca.signal(cb.ID, "A to B")
	cb.expectSignalFrom(ca.ID)
	for _, n := range []*tracker.Server{a, b} {
		if p := getJSON(t, "http://"+n.Addr+"/v1/swarms/multi", 200)["peers"].(float64); p != 2 {
			t.Fatalf("node %s counts %v peers, want 2", n.Addr, p)
		}
	}
	// A client whose socket dies vanishes from the other node's list.
	ca.c.CloseNow()
	waitFor(t, "dead socket removed", func() bool {
		return len(peerIDs(getJSON(t, "http://"+b.Addr+"/v1/swarms/multi/peers", 200), "peers")) == 1
	})
}

func TestHealthzFollowsRedis(t *testing.T) {
	srv := redistest.Start(t)
	s := startServer(t, srv.URL, 200*time.Millisecond)
	c := dial(t, s.Addr)
	c.join("h")
	srv.Stop()
	m := getJSON(t, "http://"+s.Addr+"/healthz", 503)
	if e := m["error"].(map[string]any); e["code"] != "unavailable" || e["message"] == "" {
		t.Fatalf("healthz with Redis down = %v", m)
	}
	c.send(map[string]any{"type": "peers"})
	c.expectError("unavailable")
	srv.Restart() // empty: the heartbeat puts the peer back
	waitFor(t, "recovery", func() bool {
		resp, err := http.Get("http://" + s.Addr + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	waitFor(t, "peer re-registered", func() bool {
		resp, err := http.Get("http://" + s.Addr + "/v1/swarms/h")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	c2 := dial(t, s.Addr)
	c2.join("h")
	c2.signal(c.ID, "after restart")
	c.expectSignalFrom(c2.ID)
}
