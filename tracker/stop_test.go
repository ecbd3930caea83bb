package tracker_test

import (
	"context"
	"net/http"
	"net/http/httptest"
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
