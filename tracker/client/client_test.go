package client_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/p2phls/p2phls/tracker"
	"github.com/p2phls/p2phls/tracker/client"
)

type events struct {
	joined  chan []string
	signals chan string
	dropped chan error
}

func newClient(t *testing.T, ctx context.Context, url string, st client.Stats) (*client.Client, events) {
	t.Helper()
	ev := events{joined: make(chan []string, 4), signals: make(chan string, 4), dropped: make(chan error, 4)}
	c := client.New(client.Config{URL: url, Swarm: "live-1", UploadCap: 1000, Backoff: 50 * time.Millisecond,
		Joined:  func(_ string, peers []string) { ev.joined <- peers },
		Signal:  func(from string, data json.RawMessage) { ev.signals <- from + " " + string(data) },
		Dropped: func(err error) { ev.dropped <- err },
		StatsFn: func() client.Stats { return st }})
	go func() { _ = c.Run(ctx) }()
	return c, ev
}

func recv[T any](t *testing.T, c chan T) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(10 * time.Second):
		t.Fatal("timed out")
	}
	var z T
	return z
}

func TestClientJoinsSignalsReportsAndRejoins(t *testing.T) {
	srv, err := tracker.Start(tracker.ServerConfig{Listen: "127.0.0.1:0", Heartbeat: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	url := "ws://" + srv.Addr + "/v1/ws"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a, aev := newClient(t, ctx, url, client.Stats{BytesCDN: 100, BytesP2P: 900})
	recv(t, aev.joined)
	b, bev := newClient(t, ctx, url, client.Stats{BytesCDN: 50, BytesP2P: 450})
	if peers := recv(t, bev.joined); len(peers) != 1 || peers[0] != a.ID() {
		t.Fatalf("b joined with peers %v, want [%s]", peers, a.ID())
	}
	if err := b.Signal(a.ID(), map[string]string{"x": "y"}); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, aev.signals); got != b.ID()+` {"x":"y"}` {
		t.Fatalf("a got %q", got)
	}
	if err := a.Signal("nobody", 1); err != nil { // the tracker answers unknown_peer; the client stays joined
		t.Fatal(err)
	}
	// stats reach the swarm totals
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + srv.Addr + "/v1/swarms/live-1")
		if err != nil {
			t.Fatal(err)
		}
		var sw struct {
			Totals client.Stats `json:"totals"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&sw)
		resp.Body.Close()
		if sw.Totals.BytesP2P == 1350 && sw.Totals.BytesCDN == 150 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("totals %+v", sw.Totals)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// the node goes away: both clients notice, and join the new node on the same address
	old := a.ID()
	_ = srv.Close(context.Background())
	recv(t, aev.dropped)
	srv2, err := tracker.Start(tracker.ServerConfig{Listen: srv.Addr, Heartbeat: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer srv2.Close(context.Background())
	recv(t, aev.joined)
	if a.ID() == "" || a.ID() == old {
		t.Fatalf("after rejoin id %q (old %q)", a.ID(), old)
	}
}

func TestSendBeforeJoinFails(t *testing.T) {
	c := client.New(client.Config{URL: "ws://127.0.0.1:1/v1/ws", Swarm: "s"})
	if err := c.Signal("x", 1); err != client.ErrNotConnected {
		t.Fatalf("err = %v", err)
	}
}
