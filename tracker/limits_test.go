package tracker_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/p2phls/p2phls/tracker"
	"github.com/p2phls/p2phls/tracker/token"
)

func start(t *testing.T, cfg tracker.ServerConfig) *tracker.Server {
	t.Helper()
	cfg.Listen, cfg.Heartbeat = "127.0.0.1:0", time.Second
	s, err := tracker.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

// With a secret, a join needs a valid token for the swarm: forged, expired,
// other-swarm and missing tokens are refused with bad_token and a reason; a
// token that pins a peer id gives that id.
func TestJoinNeedsASignedToken(t *testing.T) {
	secret := []byte("k")
	s := start(t, tracker.ServerConfig{Auth: token.Authorizer(secret, time.Now)})
	exp := time.Now().Add(time.Hour).Unix()
	for _, c := range []struct{ name, tok, why string }{
		{"none", "", "malformed"},
		{"forged", token.Make([]byte("not-k"), token.Claims{Swarm: "sw", Expiry: exp}), "signature"},
		{"expired", token.Make(secret, token.Claims{Swarm: "sw", Expiry: time.Now().Add(-time.Second).Unix()}), "expired"},
		{"other swarm", token.Make(secret, token.Claims{Swarm: "other", Expiry: exp}), "not for this swarm"},
	} {
		cl := dial(t, s.Addr)
		cl.send(map[string]any{"type": "join", "swarm": "sw", "token": c.tok})
		m := cl.next("error")
		if m["code"] != tracker.CodeBadToken || !strings.Contains(m["message"].(string), c.why) {
			t.Errorf("%s token: %v", c.name, m)
		}
	}
	cl := dial(t, s.Addr)
	cl.send(map[string]any{"type": "join", "swarm": "sw", "token": token.Make(secret, token.Claims{Swarm: "sw", Expiry: exp, Peer: "viewer-7"})})
	if j := cl.next("joined"); j["peer"] != "viewer-7" {
		t.Fatalf("pinned id: %v", j)
	}
}

// One address holds at most ConnsPerIP connections; the next is closed with
// 4029. Its connections share MsgsPerIP: past it messages are refused.
func TestPerAddressLimits(t *testing.T) {
	s := start(t, tracker.ServerConfig{ConnsPerIP: 2, MsgsPerIP: 5})
	a, b := dial(t, s.Addr), dial(t, s.Addr)
	a.join("sw")
	b.join("sw")
	c := dial(t, s.Addr) // its reader sees the close
	if err := c.closed(3 * time.Second); err == nil || !strings.Contains(err.Error(), "4029") {
		t.Fatalf("third connection from one address: %v", err)
	}
	for range 10 { // a and b together are over 5 messages/s
		a.send(map[string]any{"type": "ping"})
		b.send(map[string]any{"type": "ping"})
	}
	b.expectError(tracker.CodeRateLimited)
}

// Below MinSwarm viewers a swarm's members are told of no peers (no P2P
// among a few); from MinSwarm on they are.
func TestMinSwarm(t *testing.T) {
	s := start(t, tracker.ServerConfig{MinSwarm: 3})
	a := dial(t, s.Addr)
	a.join("sw")
	b := dial(t, s.Addr)
	if j := b.join("sw"); len(peerIDs(j, "peers")) != 0 {
		t.Fatalf("2 viewers, min 3: told of %v", j["peers"])
	}
	c := dial(t, s.Addr)
	if j := c.join("sw"); len(peerIDs(j, "peers")) != 2 {
		t.Fatalf("3 viewers, min 3: told of %v", j["peers"])
	}
}

// WebSocket Origin check: with --origins, a browser page from another site
// cannot open a connection (403 at the handshake); pages from an allowed
// host pattern, the tracker's own host, and clients that send no Origin
// (not browsers) can.
func TestWebSocketOriginCheck(t *testing.T) {
	s := start(t, tracker.ServerConfig{Origins: []string{"*.example.com"}})
	for _, c := range []struct {
		origin string
		ok     bool
	}{
		{"https://player.example.com", true},
		{"http://" + s.Addr, true},
		{"", true},
		{"https://evil.test", false},
		{"https://example.com.evil.test", false},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		h := http.Header{}
		if c.origin != "" {
			h.Set("Origin", c.origin)
		}
		conn, resp, err := websocket.Dial(ctx, "ws://"+s.Addr+"/v1/ws", &websocket.DialOptions{HTTPHeader: h})
		cancel()
		if c.ok != (err == nil) {
			t.Errorf("Origin %q: err %v, want allowed %v", c.origin, err, c.ok)
		}
		if !c.ok && (resp == nil || resp.StatusCode != http.StatusForbidden) {
			t.Errorf("Origin %q: refused with %v, want 403", c.origin, resp)
		}
		if conn != nil {
			conn.CloseNow()
		}
	}
}

// Keepalive: the tracker pings a quiet client, so one that only answers
// pings stays connected past the read deadline (two heartbeats and 3 s);
// one that stops answering (a vanished host) is closed by then and leaves
// its swarm.
func TestQuietClientsKeptDeadOnesDropped(t *testing.T) {
	s := start(t, tracker.ServerConfig{})
	alive := dial(t, s.Addr) // its reader answers pings
	alive.join("quiet")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	dead, _, err := websocket.Dial(ctx, "ws://"+s.Addr+"/v1/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer dead.CloseNow()
	if err := dead.Write(ctx, websocket.MessageText, []byte(`{"type":"join","swarm":"quiet"}`)); err != nil {
		t.Fatal(err)
	}
	// dead never reads again: no pong goes back
	peers := func() int {
		n, _ := getJSON(t, "http://"+s.Addr+"/v1/swarms/quiet", http.StatusOK)["peers"].(float64)
		return int(n)
	}
	time.Sleep(500 * time.Millisecond)
	if n := peers(); n != 2 {
		t.Fatalf("%d peers after both joined", n)
	}
	time.Sleep(7 * time.Second) // > 2 heartbeats (1 s) + 3 s
	if n := peers(); n != 1 {
		t.Fatalf("%d peers 7 s later: want only the client that answers pings", n)
	}
	alive.send(map[string]any{"type": "peers"})
	alive.next("peers")
}
