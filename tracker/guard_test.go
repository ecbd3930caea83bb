package tracker_test

import (
	"context"
	"encoding/base64"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/p2phls/p2phls/engine"
	"github.com/p2phls/p2phls/hls"
	"github.com/p2phls/p2phls/origin"
	"github.com/p2phls/p2phls/tracker"
)

// A swarm whose playlist is on an allowed origin gets digests: at join (the
// recent ones) and for every new segment; they match the origin's bytes.
// A playlist elsewhere, or naming another swarm, gets none.
func TestDigestsForAllowedOriginsOnly(t *testing.T) {
	o := origin.New(origin.Config{Segment: time.Second})
	cdn := httptest.NewServer(o)
	defer cdn.Close()
	s, err := tracker.Start(tracker.ServerConfig{Listen: "127.0.0.1:0", Heartbeat: time.Second, Integrity: []string{cdn.URL}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close(context.Background()) }()
	playlist := cdn.URL + "/live/index.m3u8"
	swarm, _ := hls.SwarmID(playlist)

	a := dial(t, s.Addr)
	a.send(map[string]any{"type": "join", "swarm": swarm, "playlist": playlist})
	if j := a.next("joined"); j["integrity"] != true {
		t.Fatalf("allowed origin, integrity %v", j["integrity"])
	}
	d := a.next("digests")
	size := int(d["size"].(float64))
	sums, _ := base64.StdEncoding.DecodeString(d["sums"].(string))
	found := false
	for n := int64(0); n < 100 && !found; n++ {
		b := o.Segment(n)
		if len(b) != size {
			continue
		}
		want := engine.Digests(b, 4)
		found = len(sums) == 32*len(want) && string(sums[:32]) == string(want[0][:]) && string(sums[len(sums)-32:]) == string(want[len(want)-1][:])
	}
	if !found || d["stripes"].(float64) != 4 {
		t.Fatalf("digests of %s (%d bytes) match no origin segment", d["segment"], size)
	}

	_, mb := get(t, "http://"+s.Addr+"/metrics")
	if m := string(mb); !strings.Contains(m, "p2phls_integrity_cdn_bytes_total") || strings.Contains(m, "p2phls_integrity_cdn_bytes_total 0\n") {
		t.Errorf("integrity fetches not counted:\n%s", m)
	}
	late := dial(t, s.Addr) // a newcomer gets the recent digests right after joining
	late.send(map[string]any{"type": "join", "swarm": swarm, "playlist": playlist})
	late.next("joined")
	late.next("digests")

	for _, bad := range []struct{ swarm, playlist string }{
		{"other", "http://127.0.0.1:1/live/index.m3u8"}, // not an allowed origin (no request forgery)
		{"not-this-swarm", playlist},                    // a playlist that names another swarm
	} {
		c := dial(t, s.Addr)
		c.send(map[string]any{"type": "join", "swarm": bad.swarm, "playlist": bad.playlist})
		if j := c.next("joined"); j["integrity"] == true {
			t.Errorf("%s %s: integrity on", bad.swarm, bad.playlist)
		}
	}
}

// A peer reported for bad data by two different peers is banned: told so,
// disconnected; one report alone does nothing; a report needs a peer.
func TestReportedPeerIsBanned(t *testing.T) {
	s := startServer(t, "", time.Second)
	liar, a, b := dial(t, s.Addr), dial(t, s.Addr), dial(t, s.Addr)
	liar.join("sw")
	a.join("sw")
	b.join("sw")
	a.send(map[string]any{"type": "report", "reason": "bad block"})
	a.expectError(tracker.CodeBadMessage)
	a.send(map[string]any{"type": "report", "peer": liar.ID, "reason": "bad block"})
	a.send(map[string]any{"type": "report", "peer": liar.ID, "reason": "again"}) // the same reporter twice counts once
	a.send(map[string]any{"type": "ping"})
	a.next("pong")
	liar.send(map[string]any{"type": "ping"})
	liar.next("pong") // still here
	b.send(map[string]any{"type": "report", "peer": liar.ID, "reason": "bad block"})
	liar.expectError(tracker.CodeBanned)
	waitFor(t, "the banned peer to leave the swarm", func() bool { return swarmPeersCount(t, s.Addr, "sw") == 2 })
}

func swarmPeersCount(t *testing.T, addr, swarm string) int {
	m := getJSON(t, "http://"+addr+"/v1/swarms/"+swarm, 200)
	return int(m["peers"].(float64))
}
