package engine

import (
	"testing"
	"testing/synctest"
)

// A neighbour that takes the slot of one that left starts with no HAVE bits:
// the engine neither pulls from it nor skips telling it what it holds.
func TestNewNeighbourInheritsNoHaves(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newTWorld(1)
		a := w.add(Config{Self: "a", Stripes: 4})
		w.r.do(func() {
			e := a.eng
			e.AddNeighbour("left")
			s := e.seg(segInfo(0, 0).ID)
			m := Message{Type: THave, Seg: s.info.ID, Have: 0b1111}
			if err := e.OnMessage("left", &m); err != nil {
				t.Fatal(err)
			}
			if n := e.holder(s, 2, 0); n == nil || n.id != "left" {
				t.Fatalf("holder of stripe 2 = %v, want the neighbour that said HAVE", n)
			}
			old := e.nbrs["left"].slot
			e.RemoveNeighbour("left")
			e.AddNeighbour("came")
			if got := e.nbrs["came"].slot; got != old {
				t.Fatalf("new neighbour took slot %d, want the freed slot %d", got, old)
			}
			if n := e.holder(s, 2, 0); n != nil {
				t.Fatalf("holder of stripe 2 = %s, which never said HAVE", n.id)
			}
			if h := s.have(e.nbrs["came"]); h != 0 {
				t.Fatalf("new neighbour's HAVE bits = %b, want none", h)
			}
		})
	})
}
