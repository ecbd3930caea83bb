package engine

import (
	"testing"
	"testing/synctest"
	"time"
)

// A push to a child that forwards the stripe (it has children there, or
// offers slots in it) is marked Forward for the host's uplink to send
// first; a push to a leaf is not, and Forward never reaches the wire.
func TestPushesToForwardingChildrenAreMarked(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newTWorld(3)
		p := w.add(Config{Self: "p", Stripes: 1, UploadCap: 200_000})
		kids := []struct {
			id PeerID
			st StripeState
		}{
			{"leaf", StripeState{}},
			{"inner", StripeState{Fed: true, Kids: true, Path: []uint32{Hash("p")}}},
			{"ext", StripeState{Fed: true, Slots: 2, Path: []uint32{Hash("p")}}},
		}
		children := map[PeerID]*tpeer{}
		w.r.do(func() { p.eng.OnSegment(segInfo(0, 0)) })
		time.Sleep(100 * time.Millisecond)
		synctest.Wait()
		for _, c := range kids { // neighbours first: a peer chooses its home from their STATEs
			q := &tpeer{id: c.id, r: w.r, links: map[PeerID]*tpeer{}, o: w.o}
			children[c.id] = q
			w.r.do(func() {
				q.links[p.id], p.links[q.id] = p, q
				p.eng.AddNeighbour(q.id)
				_ = p.eng.OnMessage(q.id, &Message{Type: TState, Stripes: []StripeState{c.st}})
			})
		}
		for _, c := range kids {
			w.r.do(func() { _ = p.eng.OnMessage(c.id, &Message{Type: TSubscribe, Stripe: 0}) })
		}
		time.Sleep(time.Second) // the catch-ups of segment 0 (not pushes) have gone
		synctest.Wait()
		w.r.do(func() { p.pushed = nil; p.eng.OnSegment(segInfo(1, 2*time.Second)) })
		time.Sleep(3 * time.Second)
		synctest.Wait()
		var pushed map[PeerID][2]int
		w.r.do(func() { pushed = p.pushed })
		for id, want := range map[PeerID]bool{"leaf": false, "inner": true, "ext": true} {
			c := pushed[id]
			if c[0]+c[1] == 0 {
				t.Fatalf("%s was pushed nothing", id)
			}
			if forward := c[1] > 0; forward != want || c[0] > 0 && c[1] > 0 {
				t.Errorf("%s: %d pieces unmarked, %d marked Forward; want all marked %v", id, c[0], c[1], want)
			}
		}
		for _, m := range children["inner"].received() {
			if m.Forward {
				t.Fatal("Forward came over the wire")
			}
		}
	})
}
