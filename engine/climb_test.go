package engine

import (
	"testing"
	"testing/synctest"
	"time"
)

// A peer that feeds a child in its home stripe sits four levels down; a
// neighbour that would put it two levels down offers a slot. It moves up make-before-
// break: the old upstream is left only after the new one accepts and the
// stripe in flight is complete, no byte of it comes from the CDN, and its
// child gets the whole stripe. In a stripe where it is a leaf it stays.
// Not before it has kept its upstream for climbPause. With NoClimb it stays
// everywhere; refused, it keeps its upstream.
func TestClimbsToAShallowerSlotWithoutALoss(t *testing.T) {
	for _, mode := range []string{"climb", "NoClimb", "refused"} {
		t.Run(mode, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { climbs(t, mode) })
		})
	}
}

// hand is a neighbour driven by the test (no engine).
func (w *tworld) hand(b *tpeer, id PeerID) *tpeer {
	p := &tpeer{id: id, r: w.r, links: map[PeerID]*tpeer{}, o: w.o}
	w.r.do(func() {
		p.links[b.id], b.links[p.id] = b, p
		b.eng.AddNeighbour(p.id)
	})
	return p
}

// say delivers m from a hand-driven peer to b.
func say(t *testing.T, w *tworld, from, b *tpeer, m Message) {
	t.Helper()
	w.r.do(func() {
		if err := b.eng.OnMessage(from.id, &m); err != nil {
			t.Fatal(err)
		}
	})
	time.Sleep(100 * time.Millisecond)
	synctest.Wait()
}

func stateOf(path []uint32, slots uint8) Message {
	st := Message{Type: TState, Stripes: make([]StripeState, 4)}
	for k := range st.Stripes {
		st.Stripes[k] = StripeState{Path: path, Fed: path != nil, Slots: slots}
	}
	return st
}

func count(ms []Message, typ Type, k int) int {
	n := 0
	for _, m := range ms {
		if m.Type == typ && int(m.Stripe) == k {
			n++
		}
	}
	return n
}

func climbs(t *testing.T, mode string) {
	w := newTWorld(3)
	b := w.add(Config{Self: "b", Stripes: 4, NoClimb: mode == "NoClimb"})
	old, high, kid := w.hand(b, "old"), w.hand(b, "high"), w.hand(b, "kid")
	say(t, w, kid, b, stateOf(nil, 0))
	say(t, w, high, b, stateOf(nil, 0))
	say(t, w, old, b, stateOf([]uint32{10, 11, 12}, 3)) // b would be four levels down
	for k := range 4 {
		if count(old.received(), TSubscribe, k) != 1 {
			t.Fatalf("stripe %d: b did not subscribe to its only fed neighbour", k)
		}
		say(t, w, old, b, Message{Type: TAccept, Stripe: uint8(k)})
	}
	h := b.eng.homeK
	if h < 0 {
		t.Fatal("b chose no home stripe")
	}
	say(t, w, kid, b, Message{Type: TSubscribe, Stripe: uint8(h)})
	if count(kid.received(), TAccept, h) != 1 {
		t.Fatalf("b did not take a child in its home stripe %d", h)
	}
	say(t, w, high, b, stateOf([]uint32{10}, 3)) // a shallower slot at once: the new upstream is kept a while
	if n := count(high.received(), TSubscribe, h); n != 0 {
		t.Fatalf("b asked to leave an upstream it took %v ago", w.r.Now())
	}
	say(t, w, high, b, stateOf(nil, 0))
	time.Sleep(climbPause)
	synctest.Wait()
	w.publish(0, b) // fast start, from the CDN
	w.publish(1, b)
	seg, id := w.o.segs[1], segInfo(1, 0).ID
	a, z := stripeBounds(int64(len(seg)), h, 4)
	mid := (a + z) / 2
	w.r.do(func() { w.o.requests = nil })
	push := func(from, to int64) {
		say(t, w, old, b, Message{Type: TPiece, Seg: id, Size: uint32(len(seg)), Stripe: uint8(h), Offset: uint32(from - a), Data: seg[from:to]})
	}
	push(a, mid) // the stripe is in flight

	say(t, w, high, b, stateOf([]uint32{10}, 3)) // b would be two levels down
	if mode == "NoClimb" {
		if n := count(high.received(), TSubscribe, h); n != 0 {
			t.Fatalf("NoClimb: b asked the shallower neighbour %d times", n)
		}
		return
	}
	if count(high.received(), TSubscribe, h) != 1 {
		t.Fatalf("home stripe %d: b did not ask the shallower neighbour", h)
	}
	for k := range 4 {
		if k != h && count(high.received(), TSubscribe, k) != 0 {
			t.Errorf("stripe %d: b is a leaf there and still moved", k)
		}
	}
	if mode == "refused" {
		say(t, w, high, b, Message{Type: TReject, Stripe: uint8(h)})
		push(mid, z)
		if count(old.received(), TUnsubscribe, h) != 0 || b.eng.up[h].peer != old.id || b.eng.up[h].climb != "" {
			t.Fatalf("refused: upstream %q, climb %q, old told %d times", b.eng.up[h].peer, b.eng.up[h].climb, count(old.received(), TUnsubscribe, h))
		}
		return
	}
	say(t, w, high, b, Message{Type: TAccept, Stripe: uint8(h)})
	if count(old.received(), TUnsubscribe, h) != 0 || b.eng.up[h].peer != old.id {
		t.Fatal("b left its upstream while the stripe was in flight")
	}
	push(mid, z)
	if count(old.received(), TUnsubscribe, h) != 1 || b.eng.up[h].peer != high.id {
		t.Fatalf("stripe complete: upstream %q, old told %d times", b.eng.up[h].peer, count(old.received(), TUnsubscribe, h))
	}
	if len(w.o.requests) != 0 {
		t.Errorf("the CDN was asked %v during the move", w.o.requests)
	}
	var got []byte
	for _, m := range kid.received() {
		if m.Type == TPiece && m.Seg == id && int(m.Stripe) == h {
			got = append(got, m.Data...)
		}
	}
	if string(got) != string(seg[a:z]) {
		t.Errorf("the child got %d bytes of stripe %d, not the %d the origin served", len(got), h, z-a)
	}
	if st := b.eng.Stats(); st.Climbs != 1 {
		t.Errorf("Stats.Climbs = %d, want 1", st.Climbs)
	}
}
