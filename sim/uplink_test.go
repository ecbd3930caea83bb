package sim

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/p2phls/p2phls/engine"
)

// uplinkRig is one sender on its own part with receivers that are gone (a
// message reaching them is dropped), so only the sender's transmitter runs.
func uplinkRig(receivers ...engine.PeerID) (*node, map[engine.PeerID]*node) {
	w := &World{cfg: Config{RTT: 20 * time.Millisecond}}
	p := &part{w: w, rng: rand.New(rand.NewPCG(1, 2)), out: make([][]slot, 1)}
	w.parts = []*part{p}
	s := &node{w: w, p: p, id: "s", up: 1000, alive: true, links: map[engine.PeerID]*node{}}
	s.tx.n = s
	to := map[engine.PeerID]*node{}
	for _, id := range receivers {
		r := &node{w: w, p: p, id: id, links: map[engine.PeerID]*node{}}
		s.links[id], to[id] = r, r
	}
	return s, to
}

// wire runs the sender's events one at a time and lists whom each message
// put on the wire was for, with the instant it started.
func wire(s *node) (order []engine.PeerID, at []time.Duration) {
	var last *flight
	for range 1000 {
		if f := s.tx.busy; f != nil && f != last {
			last = f
			order, at = append(order, f.to.id), append(at, s.p.loop.Now())
		}
		t, ok := s.p.loop.next()
		if !ok {
			break
		}
		s.p.loop.runBefore(t + 1)
	}
	return order, at
}

// A burst to one link takes its turn with the other links, a message each,
// instead of holding them all back; every message leaves, each taking its
// size at the full upload.
func TestFairShareServesLinksInTurn(t *testing.T) {
	s, to := uplinkRig("a", "b")
	for range 4 {
		s.tx.push(&flight{from: s, to: to["a"], size: 100})
	}
	s.tx.push(&flight{from: s, to: to["b"], size: 100})
	s.tx.push(&flight{from: s, to: to["b"], size: 100})
	order, at := wire(s)
	want := []engine.PeerID{"a", "a", "b", "a", "b", "a"} // the first went on the wire alone; one queue first-in first-out: a a a a b b
	if len(order) != len(want) {
		t.Fatalf("on the wire: %v, want %v", order, want)
	}
	for i := range want {
		if order[i] != want[i] || at[i] != time.Duration(i)*100*time.Millisecond {
			t.Fatalf("message %d: for %s at %v, want for %s at %v (all: %v at %v)",
				i, order[i], at[i], want[i], time.Duration(i)*100*time.Millisecond, order, at)
		}
	}
}

// A link dropped while its messages wait takes its buffer with it: they
// cost no upload time.
func TestFairShareDropsAGoneLinksQueue(t *testing.T) {
	s, to := uplinkRig("a", "b")
	s.tx.push(&flight{from: s, to: to["a"], size: 100})
	s.tx.push(&flight{from: s, to: to["b"], size: 100})
	s.tx.push(&flight{from: s, to: to["a"], size: 100})
	delete(s.links, "b")
	order, at := wire(s)
	if len(order) != 2 || order[0] != "a" || order[1] != "a" || at[1] != 100*time.Millisecond {
		t.Fatalf("on the wire: %v at %v, want a at 0s and a at 100ms", order, at)
	}
	if len(s.tx.turn) != 0 || len(s.tx.queues) != 0 || s.tx.busy != nil {
		t.Fatalf("left behind: %d queues in turn, %d queues, busy %v", len(s.tx.turn), len(s.tx.queues), s.tx.busy != nil)
	}
}

// Pushes to a child that forwards them (Message.Forward) go before the
// other links' messages, in turn among themselves; with PlainTurns every
// link takes its turn alike.
func TestForwardPushesGoFirst(t *testing.T) {
	for _, plain := range []bool{false, true} {
		s, to := uplinkRig("leaf", "x", "y")
		s.w.cfg.PlainTurns = plain
		s.tx.push(&flight{from: s, to: to["leaf"], size: 100}) // on the wire at once
		for range 2 {
			s.tx.push(&flight{from: s, to: to["leaf"], size: 100})
		}
		for _, id := range []engine.PeerID{"x", "y", "x"} {
			s.tx.push(&flight{from: s, to: to[id], size: 100, msg: engine.Message{Type: engine.TPiece, Forward: true}})
		}
		order, _ := wire(s)
		want := "leaf x y x leaf leaf"
		if plain {
			want = "leaf leaf x y leaf x"
		}
		if got := fmt.Sprint(order); got != "["+want+"]" {
			t.Errorf("plain turns %v: on the wire %v, want [%s]", plain, got, want)
		}
	}
}
