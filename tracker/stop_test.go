package tracker_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/p2phls/p2phls/tracker"
	"github.com/p2phls/p2phls/tracker/peerstore"
)

// Once the handler's context ends its WebSocket pollers stop; an upgrade
// that comes after gets 503 "unavailable" (it never reaches a stopped
// poller), while the plain HTTP endpoints still answer.
func TestWebSocketsRefusedOncePollersStop(t *testing.T) {
	mem := peerstore.NewMemory(time.Now)
	tr, err := tracker.New(context.Background(), tracker.Config{Store: mem, Bus: mem})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Shutdown(context.Background())
	ctx, cancel := context.WithCancel(context.Background())
	h, err := tr.Handler(ctx, tracker.HandlerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/v1/ws"
	c, _, err := websocket.Dial(context.Background(), url, nil)
	if err != nil {
		t.Fatalf("before the stop: %v", err)
	}
	c.CloseNow()
	cancel()
	deadline := time.Now().Add(5 * time.Second)
	for {
		dctx, dcancel := context.WithTimeout(context.Background(), time.Second)
		c, resp, err := websocket.Dial(dctx, url, nil)
		dcancel()
		if err == nil {
			c.CloseNow() // the stop has not run yet (it follows the context's end)
		} else if resp != nil && resp.StatusCode == http.StatusServiceUnavailable {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("an upgrade after the stop: %v (status %v), want 503", err, resp)
		}
		time.Sleep(10 * time.Millisecond)
	}
	resp, err := http.Get(srv.URL + "/v1/swarms")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v1/swarms after the stop: %v %v", err, resp)
	}
	resp.Body.Close()
}

// A client that dialled the tracker but never sent a request keeps its
// connection "new" for 5 s; Close with a shorter deadline still succeeds and
// closes it.
func TestCloseDoesNotWaitForASilentClient(t *testing.T) {
	s, err := tracker.Start(tracker.ServerConfig{Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	time.Sleep(50 * time.Millisecond) // accepted by the server
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := s.Close(ctx); err != nil {
		t.Fatalf("Close with a silent client connected: %v", err)
	}
	_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil || os.IsTimeout(err) {
		t.Fatalf("the silent client's connection is still open: read %v", err)
	}
}
