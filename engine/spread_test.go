package engine

import (
	"testing"
	"testing/synctest"
	"time"
)

// Between two neighbours that would put it at the same depth, a peer takes
// its stripes from both rather than all from the one with more free slots:
// each link is one flow that gets its share of its sender's uplink, and a
// neighbour that leaves then takes fewer of its stripes with it. Depth still
// comes first: a shallower neighbour feeds every stripe it can.
func TestStripesSpreadOverUpstreamsOfOneDepth(t *testing.T) {
	cases := []struct {
		name         string
		pathA, pathB []uint32
		slotsA       uint8
		slotsB       uint8
		wantA, wantB int
	}{
		{"one depth", []uint32{10}, []uint32{20}, 12, 2, 2, 2},
		{"A shallower", []uint32{10}, []uint32{20, 21}, 2, 12, 4, 0},
	}
	for _, c := range cases {
		synctest.Test(t, func(t *testing.T) {
			w := newTWorld(3)
			b := w.add(Config{Self: "b", Stripes: 4})
			a, z := w.hand(b, "a"), w.hand(b, "z")
			w.r.do(func() { // both known before the peer chooses
				b.eng.nbrs[a.id].state = stateOf(c.pathA, c.slotsA).Stripes
				b.eng.nbrs[z.id].state = stateOf(c.pathB, c.slotsB).Stripes
				b.eng.improve()
			})
			time.Sleep(100 * time.Millisecond)
			synctest.Wait()
			if n, m := subscribed(a), subscribed(z); n != c.wantA || m != c.wantB {
				t.Fatalf("%s: %d subscriptions to A (%d free slots), %d to B (%d); want %d and %d",
					c.name, n, c.slotsA, m, c.slotsB, c.wantA, c.wantB)
			}
		})
	}
}

func subscribed(p *tpeer) int {
	n := 0
	for k := range 4 {
		n += count(p.received(), TSubscribe, k)
	}
	return n
}
