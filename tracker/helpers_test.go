package tracker_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/p2phls/p2phls/tracker"
)

func startServer(t *testing.T, redisURL string, hb time.Duration) *tracker.Server {
	t.Helper()
	s, err := tracker.Start(tracker.ServerConfig{Listen: "127.0.0.1:0", RedisURL: redisURL, Heartbeat: hb})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Close(ctx)
	})
	return s
}

// client is a test WebSocket client of a tracker node.
type client struct {
	t   *testing.T
	c   *websocket.Conn
	in  chan map[string]any
	ID  string
	end error // why the reader stopped; set before in is closed
}

// closed waits up to d for the connection to end and returns why.
func (c *client) closed(d time.Duration) error {
	c.t.Helper()
	timeout := time.After(d)
	for {
		select {
		case _, ok := <-c.in:
			if !ok {
				return c.end
			}
		case <-timeout:
			c.t.Fatalf("connection still open after %v", d)
		}
	}
}

func dial(t *testing.T, addr string) *client {
	t.Helper()
	return dialPath(t, addr, "/v1/ws")
}

func dialPath(t *testing.T, addr, path string) *client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws://"+addr+path, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	c.SetReadLimit(1 << 20)
	cl := &client{t: t, c: c, in: make(chan map[string]any, 1024)}
	go func() {
		defer close(cl.in)
		for {
			_, b, err := c.Read(context.Background())
			if err != nil {
				cl.end = err
				return
			}
			var m map[string]any
			if json.Unmarshal(b, &m) == nil {
				cl.in <- m
			}
		}
	}()
	t.Cleanup(func() { c.CloseNow() })
	return cl
}

func (c *client) sendRaw(b []byte) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.c.Write(ctx, websocket.MessageText, b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

func (c *client) send(v any) {
	c.t.Helper()
	b, _ := json.Marshal(v)
	c.sendRaw(b)
}

// next returns the next message of type typ, skipping others.
func (c *client) next(typ string) map[string]any {
	c.t.Helper()
	return c.nextWhere(typ, func(m map[string]any) bool { return m["type"] == typ })
}

// nextWhere waits for a message that ok accepts, skipping others.
func (c *client) nextWhere(what string, ok func(map[string]any) bool) map[string]any {
	c.t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case m, open := <-c.in:
			if !open {
				c.t.Fatalf("connection closed while waiting for %q", what)
			}
			if ok(m) {
				return m
			}
		case <-timeout:
			c.t.Fatalf("no %q message within 5s", what)
		}
	}
}

func (c *client) join(swarm string) map[string]any {
	c.t.Helper()
	c.send(map[string]any{"type": "join", "swarm": swarm})
	m := c.next("joined")
	c.ID = m["peer"].(string)
	return m
}

func (c *client) expectError(code string) {
	c.t.Helper()
	m := c.next("error")
	if m["code"] != code {
		c.t.Fatalf("error code = %v (%v), want %s", m["code"], m["message"], code)
	}
	if s, _ := m["message"].(string); s == "" {
		c.t.Fatalf("error %s without a message", code)
	}
}

// signal sends data from c to peer to.
func (c *client) signal(to string, data any) {
	c.send(map[string]any{"type": "signal", "to": to, "data": data})
}

func (c *client) expectSignalFrom(from string) map[string]any {
	c.t.Helper()
	m := c.next("signal")
	if m["from"] != from {
		c.t.Fatalf("signal from %v, want %s", m["from"], from)
	}
	return m
}

// get returns the status and body of GET url.
func get(t *testing.T, url string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func getJSON(t *testing.T, url string, wantStatus int) map[string]any {
	t.Helper()
	status, b := get(t, url)
	if status != wantStatus {
		t.Fatalf("GET %s = %d %s, want %d", url, status, b, wantStatus)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("GET %s: not JSON: %s", url, b)
	}
	return m
}

func peerIDs(m map[string]any, key string) []string {
	var out []string
	list, _ := m[key].([]any)
	for _, p := range list {
		switch v := p.(type) {
		case string:
			out = append(out, v)
		case map[string]any:
			out = append(out, v["id"].(string))
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("%s: not within 10s", what)
}
