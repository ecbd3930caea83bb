package transport

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// FanoutResult is what one sender pushed to its children in a Fanout run.
type FanoutResult struct {
	Children int     `json:"children"`
	Seconds  float64 `json:"seconds"`
	Bytes    int64   `json:"bytes"`   // delivered to the children
	Mbps     float64 `json:"mbit_s"`  // delivered, Mbit/s
	Refused  int64   `json:"refused"` // sends refused over the high-water mark (paced)
}

// Fanout measures the upload one peer sustains to `children` peers on
// loopback: 16 KiB messages round robin, paced on each link's buffered
// amount, for d. Sender and receivers run in this process.
func Fanout(ctx context.Context, children int, d time.Duration) (FanoutResult, error) {
	hub := &localHub{nets: map[string]*Network{}}
	var got atomic.Int64
	opened := make(chan string, children)
	mk := func(id string, h Handler) (*Network, error) {
		n, err := New(Config{Self: id, Loopback: true, MaxLinks: children + 1}, hubSignaler{hub, id}, h)
		if err == nil {
			hub.add(id, n)
		}
		return n, err
	}
	src, err := mk("src", Handler{Open: func(id string) { opened <- id }})
	if err != nil {
		return FanoutResult{}, err
	}
	defer src.Close()
	var kids []string
	for i := range children {
		id := fmt.Sprintf("child%02d", i)
		n, err := mk(id, Handler{Message: func(_ string, b []byte) { got.Add(int64(len(b))) }})
		if err != nil {
			return FanoutResult{}, err
		}
		defer n.Close()
		if err := src.Connect(id); err != nil {
			return FanoutResult{}, err
		}
		kids = append(kids, id)
	}
	for range children {
		select {
		case <-opened:
		case <-time.After(20 * time.Second):
			return FanoutResult{}, fmt.Errorf("transport: fanout: links did not open")
		}
	}
	el := src.Flood(ctx, kids, 16<<10, d).Seconds()
	b := got.Load()
	return FanoutResult{Children: children, Seconds: el, Bytes: b, Mbps: float64(b) * 8 / el / 1e6, Refused: src.Stats().Refused}, nil
}

// Flood sends messages of size bytes to the peers ids round robin for d
// (or until ctx ends), as fast as each link's pacing allows, and returns how
// long it sent: the fan-out measures' load.
func (n *Network) Flood(ctx context.Context, ids []string, size int, d time.Duration) time.Duration {
	msg := make([]byte, size)
	start := time.Now()
	for time.Since(start) < d && ctx.Err() == nil {
		sent := false
		for _, id := range ids {
			sent = n.Send(id, msg) || sent
		}
		if !sent {
			time.Sleep(200 * time.Microsecond) // every link is over its high-water mark
		}
	}
	return time.Since(start)
}

// localHub relays signals between Networks of one process.
type localHub struct {
	mu   sync.Mutex
	nets map[string]*Network
}

func (h *localHub) add(id string, n *Network) {
	h.mu.Lock()
	h.nets[id] = n
	h.mu.Unlock()
}

type hubSignaler struct {
	h    *localHub
	from string
}

func (s hubSignaler) Signal(to string, sig Signal) error {
	b, err := json.Marshal(sig)
	if err != nil {
		return err
	}
	s.h.mu.Lock()
	n := s.h.nets[to]
	s.h.mu.Unlock()
	if n != nil {
		go func() { _ = n.OnSignal(s.from, b) }()
	}
	return nil
}
