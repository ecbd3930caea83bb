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
	synctest.Test(t, func(t *testing.T) {
		w := newTWorld(3)
		b := w.add(Config{Self: "b", Stripes: 4})
		big, small := w.hand(b, "big"), w.hand(b, "small")
		w.r.do(func() {
			b.eng.nbrs[big.id].state = stateOf([]uint32{10}, 12).Stripes
			b.eng.nbrs[small.id].state = stateOf([]uint32{20}, 2).Stripes
			b.eng.improve()
		})
		time.Sleep(100 * time.Millisecond)
		synctest.Wait()
		if n, m := subscribed(big), subscribed(small); n != 2 || m != 2 {
			t.Fatalf("subscriptions: %d to the neighbour with 12 free slots, %d to the one with 2; want 2 and 2", n, m)
		}
	})
	synctest.Test(t, func(t *testing.T) {
		w := newTWorld(3)
		b := w.add(Config{Self: "b", Stripes: 4})
		near, far := w.hand(b, "near"), w.hand(b, "far")
		w.r.do(func() {
			b.eng.nbrs[near.id].state = stateOf([]uint32{10}, 2).Stripes
			b.eng.nbrs[far.id].state = stateOf([]uint32{20, 21}, 12).Stripes
			b.eng.improve()
		})
		time.Sleep(100 * time.Millisecond)
		synctest.Wait()
		if n := subscribed(near); n != 4 {
			t.Fatalf("%d subscriptions to the shallower neighbour, want 4", n)
		}
	})
}

func subscribed(p *tpeer) int {
	n := 0
	for k := range 4 {
		n += count(p.received(), TSubscribe, k)
	}
	return n
}
