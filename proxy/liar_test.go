package proxy_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/p2phls/p2phls/hls"
	"github.com/p2phls/p2phls/player"
	"github.com/p2phls/p2phls/tracker/client"
	"github.com/p2phls/p2phls/transport"
)

// A peer that sends bytes breaking the wire protocol is dropped by the
// viewer (logged), and the viewer's player still gets the origin's bytes
// with no stall.
func TestViewerDropsPeerBreakingTheWire(t *testing.T) {
	st := startStack(t, time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, hs := st.viewer(t, ctx, "/live/index.m3u8")
	swarm, _ := hls.SwarmID(st.origin.URL + "/live/index.m3u8")

	var liar *transport.Network
	var tc *client.Client
	opened := make(chan string, 1)
	closed := make(chan string, 1)
	tc = client.New(client.Config{URL: "ws://" + st.tracker.Addr + "/v1/ws", Swarm: swarm,
		Joined: func(_ string, peers []string) {
			for _, p := range peers {
				_ = liar.Connect(p)
			}
		},
		Signal: func(from string, data json.RawMessage) { _ = liar.OnSignal(from, data) }})
	var err error
	liar, err = transport.New(transport.Config{Self: "liar", Loopback: true}, sig{tc}, transport.Handler{
		Open:   func(id string) { opened <- id },
		Closed: func(id string) { closed <- id },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer liar.Close()
	go func() { _ = tc.Run(ctx) }()

	pctx, pcancel := context.WithTimeout(ctx, 8*time.Second)
	defer pcancel()
	done := make(chan player.Result, 1)
	go func() { r, _ := player.Play(pctx, player.Config{URL: hs.URL + "/live.m3u8"}); done <- r }()

	id := waitFor(t, opened, "link to the viewer")
	liar.Send(id, []byte{9, 9, 9, 9}) // wire version 9
	if got := waitFor(t, closed, "the viewer dropping the liar"); got != id {
		t.Fatalf("closed %q", got)
	}
	res := <-done
	checkBytes(t, "viewer", res, originHashes(st.o))
	if res.Stalls != 0 {
		t.Fatalf("%d stalls", res.Stalls)
	}
	if s := srv.Stats(); s.Peers != 0 {
		t.Fatalf("viewer still has %d links", s.Peers)
	}
}

type sig struct{ c *client.Client }

func (s sig) Signal(to string, v transport.Signal) error { return s.c.Signal(to, v) }

func waitFor(t *testing.T, c chan string, what string) string {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(15 * time.Second):
		t.Fatalf("timed out: %s", what)
	}
	return ""
}
