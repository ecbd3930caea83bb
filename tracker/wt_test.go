package tracker_test

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/p2phls/p2phls/internal/redistest"
)

// WebTorrent clients' ids and info hashes: 20-character binary strings.
const (
	wtHash = "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\u00f0\u00f1\u00f2\u00f3\u00f4\u00f5\u00f6\u00f7\u00f8\u00ff" // as JSON carries them: code points 0-255
	peerA  = "-WW0001-aaaaaaaaaaaa"
	peerB  = "-WW0001-bbbbbbbbbbbb"
)

func wtAnnounce(c *client, peer string, extra map[string]any) {
	m := map[string]any{"action": "announce", "info_hash": wtHash, "peer_id": peer, "numwant": 5, "uploaded": 0, "downloaded": 0, "left": 1}
	for k, v := range extra {
		m[k] = v
	}
	c.send(m)
}

func (c *client) nextAction(what string, has string) map[string]any {
	c.t.Helper()
	return c.nextWhere(what, func(m map[string]any) bool { _, ok := m[has]; return ok })
}

// An offer announced by one client reaches another member of the swarm with
// the offerer's peer_id; its answer comes back by to_peer_id and offer_id;
// announce replies carry interval and counts; scrape counts; stopped leaves.
func testWebTorrentSwarm(t *testing.T, addrA, addrB string) {
	a, b := dialPath(t, addrA, "/announce"), dialPath(t, addrB, "/announce")
	wtAnnounce(b, peerB, map[string]any{"event": "started"})
	if r := b.nextAction("announce reply", "interval"); r["interval"].(float64) <= 0 || r["info_hash"] != wtHash {
		t.Fatalf("reply: %v", r)
	}
	offer := map[string]any{"type": "offer", "sdp": "v=0 fake"}
	wtAnnounce(a, peerA, map[string]any{"event": "started", "offers": []any{map[string]any{"offer": offer, "offer_id": "off-1"}}})
	if r := a.nextAction("announce reply", "interval"); r["incomplete"].(float64) != 2 {
		t.Fatalf("reply to A: %v", r)
	}
	got := b.nextAction("offer", "offer")
	if got["peer_id"] != peerA || got["offer_id"] != "off-1" || got["info_hash"] != wtHash || got["offer"].(map[string]any)["sdp"] != "v=0 fake" {
		t.Fatalf("offer at B: %v", got)
	}
	wtAnnounce(b, peerB, map[string]any{"answer": map[string]any{"type": "answer", "sdp": "v=0 ans"}, "offer_id": "off-1", "to_peer_id": peerA})
	ans := a.nextAction("answer", "answer")
	if ans["peer_id"] != peerB || ans["offer_id"] != "off-1" || ans["answer"].(map[string]any)["sdp"] != "v=0 ans" {
		t.Fatalf("answer at A: %v", ans)
	}
	a.send(map[string]any{"action": "scrape", "info_hash": []string{wtHash}})
	sc := a.nextAction("scrape", "files")
	if f := sc["files"].(map[string]any)[wtHash].(map[string]any); f["incomplete"].(float64) != 2 {
		t.Fatalf("scrape: %v", sc)
	}
	wtAnnounce(b, peerB, map[string]any{"event": "stopped"})
	deadline := time.Now().Add(5 * time.Second)
	for {
		a.send(map[string]any{"action": "scrape", "info_hash": wtHash})
		f := a.nextAction("scrape", "files")["files"].(map[string]any)[wtHash].(map[string]any)
		if f["incomplete"].(float64) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after stopped: %v", f)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestWebTorrentAnnounceOneNode(t *testing.T) {
	s := startServer(t, "", time.Second)
	testWebTorrentSwarm(t, s.Addr, s.Addr)
}

func TestWebTorrentAnnounceAcrossNodesOnRedis(t *testing.T) {
	rd := redistest.Start(t)
	a, b := startServer(t, rd.URL, time.Second), startServer(t, rd.URL, time.Second)
	testWebTorrentSwarm(t, a.Addr, b.Addr)
}

// Bad announces get a "failure reason" and cost the connection nothing.
func TestWebTorrentBadInput(t *testing.T) {
	s := startServer(t, "", time.Second)
	c := dialPath(t, s.Addr, "/announce")
	for _, bad := range []map[string]any{
		{"action": "announce", "info_hash": "short", "peer_id": peerA},
		{"action": "announce", "info_hash": wtHash, "peer_id": strings.Repeat("€", 20)},
		{"action": "dance"},
		{"action": "announce", "info_hash": wtHash, "peer_id": peerA, "answer": map[string]any{"sdp": "x"}, "to_peer_id": "nobody"},
	} {
		c.send(bad)
		if r := c.nextAction("failure", "failure reason"); r["failure reason"] == "" {
			t.Fatalf("%v: %v", bad, r)
		}
	}
	c.sendRaw([]byte("{not json"))
	c.nextAction("failure", "failure reason")
	wtAnnounce(c, peerA, nil)
	if r := c.nextAction("announce reply", "interval"); r["incomplete"].(float64) != 1 {
		t.Fatalf("after bad input: %v", r)
	}
}

// A quiet /announce connection is pinged every half announce interval, not
// every heartbeat like /v1/ws: a WebTorrent client re-announces anyway, and
// a ping per client per heartbeat was most of the tracker's CPU at low
// announce rates.
func TestWebTorrentQuietConnectionsPingedRarely(t *testing.T) {
	s := startServer(t, "", 200*time.Millisecond)
	pings := func() float64 {
		_, body := get(t, "http://"+s.Addr+"/metrics")
		for _, line := range strings.Split(string(body), "\n") {
			if v, ok := strings.CutPrefix(line, "p2phls_tracker_pings_total "); ok {
				f, err := strconv.ParseFloat(v, 64)
				if err != nil {
					t.Fatal(err)
				}
				return f
			}
		}
		t.Fatal("no p2phls_tracker_pings_total in /metrics")
		return 0
	}
	a := dialPath(t, s.Addr, "/announce")
	wtAnnounce(a, peerA, map[string]any{"event": "started"})
	a.nextAction("announce reply", "interval")
	time.Sleep(1500 * time.Millisecond) // 7 heartbeats
	if n := pings(); n != 0 {
		t.Fatalf("%v pings to a quiet WebTorrent client in 7 heartbeats", n)
	}
	c := dial(t, s.Addr)
	c.join("quiet")
	time.Sleep(1500 * time.Millisecond)
	if n := pings(); n < 3 {
		t.Fatalf("%v pings to a quiet /v1/ws client in 7 heartbeats, want one a heartbeat", n)
	}
}

// One connection may be a member of up to 64 swarms; the next announce gets
// a failure and costs nothing else. Leaving one (the first, whose member is
// the connection's own session) makes room, and the others stay.
func TestWebTorrentSwarmsPerConnectionBounded(t *testing.T) {
	s := startServer(t, "", time.Second)
	c := dialPath(t, s.Addr, "/announce")
	hash := func(i int) string { return fmt.Sprintf("%08d-swarm-%05d", i, i) } // ids keep 8 bytes of it
	announce := func(i int, extra map[string]any) map[string]any {
		if i%40 == 39 {
			time.Sleep(time.Second) // under the per-connection message rate
		}
		m := map[string]any{"action": "announce", "info_hash": hash(i), "peer_id": peerA, "numwant": 0}
		for k, v := range extra {
			m[k] = v
		}
		c.send(m)
		if extra["event"] == "stopped" {
			return nil
		}
		return c.nextAction("reply", "action")
	}
	for i := range 64 {
		if r := announce(i, nil); r["interval"] == nil {
			t.Fatalf("swarm %d: %v", i, r)
		}
	}
	if r := announce(64, nil); !strings.Contains(fmt.Sprint(r["failure reason"]), "more than 64 swarms") {
		t.Fatalf("65th swarm: %v, want a failure", r)
	}
	announce(0, map[string]any{"event": "stopped"})
	if r := announce(64, nil); r["interval"] == nil {
		t.Fatalf("after leaving one: %v", r)
	}
	if n, _ := getJSON(t, "http://"+s.Addr+"/v1/swarms", http.StatusOK)["swarms"].([]any); len(n) != 64 {
		t.Fatalf("%d swarms listed, want 64", len(n))
	}
}
