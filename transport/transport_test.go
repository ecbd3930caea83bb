package transport

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"testing"
	"time"
)

// pair is Networks whose signals go straight to each other (localHub).
type pair struct {
	nets   map[string]*Network
	opened map[string]chan string
	closed map[string]chan string
	got    map[string]chan []byte
}

func newPair(t *testing.T, ids ...string) *pair {
	t.Helper()
	return newPairWith(t, Config{}, ids...)
}

// newPairWith is newPair with cfg for every Network (Self and Loopback set).
func newPairWith(t *testing.T, cfg Config, ids ...string) *pair {
	t.Helper()
	hub := &localHub{nets: map[string]*Network{}}
	p := &pair{nets: map[string]*Network{}, opened: map[string]chan string{}, closed: map[string]chan string{}, got: map[string]chan []byte{}}
	for _, id := range ids {
		p.opened[id], p.closed[id], p.got[id] = make(chan string, 8), make(chan string, 8), make(chan []byte, 1024)
		c := cfg
		c.Self, c.Loopback = id, true
		n, err := New(c, hubSignaler{hub, id}, Handler{
			Open:    func(peer string) { p.opened[id] <- peer },
			Closed:  func(peer string) { p.closed[id] <- peer },
			Message: func(_ string, b []byte) { p.got[id] <- bytes.Clone(b) },
		})
		if err != nil {
			t.Fatal(err)
		}
		hub.add(id, n)
		p.nets[id] = n
		t.Cleanup(func() { _ = n.Close() })
	}
	return p
}

func wait[T any](t *testing.T, c chan T, what string) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(15 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
	var zero T
	return zero
}

func TestLinkCarriesBytesAndCloses(t *testing.T) {
	p := newPair(t, "a", "b")
	if err := p.nets["a"].Connect("b"); err != nil {
		t.Fatal(err)
	}
	if got := wait(t, p.opened["a"], "a open"); got != "b" {
		t.Fatalf("a opened %q", got)
	}
	wait(t, p.opened["b"], "b open")
	// 4 MiB in 64 KiB messages, paced on the high-water mark, arrive intact and in order
	want := make([]byte, 4<<20)
	_, _ = rand.Read(want)
	go pump(want, 64<<10, p.nets["a"].Send)
	if got := gather(t, p.got["b"], len(want)); !bytes.Equal(got, want) {
		t.Fatal("bytes differ")
	}
	st := p.nets["a"].Stats()
	if st.Opened != 1 || st.WireSent < int64(len(want)) || st.SetupMeanMS <= 0 {
		t.Fatalf("stats %+v", st)
	}
	// closing a: b sees its link close promptly (no ICE timeout)
	start := time.Now()
	_ = p.nets["a"].Close()
	if got := wait(t, p.closed["b"], "b closed"); got != "a" {
		t.Fatalf("b closed %q", got)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("close noticed after %v", el)
	}
	if p.nets["b"].Send("a", []byte("x")) {
		t.Fatal("send on a closed link succeeded")
	}
}

func TestGlareAndLimits(t *testing.T) {
	p := newPair(t, "a", "b")
	// both offer at once: one link results
	_ = p.nets["a"].Connect("b")
	_ = p.nets["b"].Connect("a")
	wait(t, p.opened["a"], "a open")
	wait(t, p.opened["b"], "b open")
	if !p.nets["a"].Send("b", []byte("hi")) || string(wait(t, p.got["b"], "hi")) != "hi" {
		t.Fatal("no data over the glare link")
	}
	if p.nets["a"].Count() != 1 || p.nets["b"].Count() != 1 {
		t.Fatalf("links: %d %d", p.nets["a"].Count(), p.nets["b"].Count())
	}
	for _, bad := range []string{`{`, `{"type":"nope"}`, `{"type":"offer","conn":1}`, `{"type":"offer","conn":1,"sdp":"garbage"}`} {
		if err := p.nets["a"].OnSignal("z", json.RawMessage(bad)); err == nil {
			t.Errorf("signal %s accepted", bad)
		}
	}
	// answers and candidates for unknown attempts are ignored; the link stays
	_ = p.nets["a"].OnSignal("b", json.RawMessage(`{"type":"answer","conn":7,"sdp":"x"}`))
	if !p.nets["a"].Send("b", []byte("still")) || string(wait(t, p.got["b"], "still")) != "still" {
		t.Fatal("link broken by a stale signal")
	}
}

// pump sends want to b in chunks, each with the next of sends in turn,
// waiting a millisecond whenever a link refuses.
func pump(want []byte, chunk int, sends ...func(string, []byte) bool) {
	for i, off := 0, 0; off < len(want); {
		if sends[i%len(sends)]("b", want[off:off+chunk]) {
			off, i = off+chunk, i+1
		} else {
			time.Sleep(time.Millisecond)
		}
	}
}

// gather collects n bytes of messages from c.
func gather(t *testing.T, c chan []byte, n int) []byte {
	t.Helper()
	var got []byte
	for len(got) < n {
		got = append(got, wait(t, c, "data")...)
	}
	return got
}
