package engine

import (
	"fmt"
	"slices"
	"testing"
	"testing/synctest"
	"time"
)

// A root of some stripes of a segment whose size it does not know yet asks
// the CDN for one byte (the size), then for its stripes only — not the
// whole segment, which would duplicate what its upstreams bring.
func TestRootOfSomeStripesFetchesOnlyThose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newTWorld(3)
		up := &tpeer{id: "up", r: w.r, links: map[PeerID]*tpeer{}, o: w.o} // driven by hand
		b := w.add(Config{Self: "b", Stripes: 4})
		w.r.do(func() {
			up.links[b.id], b.links[up.id] = b, up
			b.eng.OnSegment(segInfo(0, 0)) // fast start, from the CDN
			b.eng.AddNeighbour(up.id)
			st := Message{Type: TState, Stripes: make([]StripeState, 4)}
			st.Stripes[0] = StripeState{Root: true, Fed: true, Slots: 3} // up feeds stripe 0 only
			_ = b.eng.OnMessage(up.id, &st)
		})
		time.Sleep(100 * time.Millisecond)
		synctest.Wait()
		w.r.do(func() { _ = b.eng.OnMessage(up.id, &Message{Type: TAccept, Stripe: 0}) })
		for k := 1; k < 4; k++ {
			if _, root := b.eng.Upstream(k); !root {
				t.Fatalf("stripe %d: not a root", k)
			}
		}
		w.o.requests = nil
		w.publish(1, b)
		time.Sleep(time.Second) // before the deadline
		synctest.Wait()
		size := int64(len(w.o.segs[1]))
		want := []string{"b 0+1"}
		for k := 1; k < 4; k++ {
			a, z := stripeBounds(size, k, 4)
			want = append(want, fmt.Sprintf("b %d+%d", a, z-a))
		}
		if !slices.Equal(w.o.requests, want) {
			t.Fatalf("CDN requests %v, want the size probe then stripes 1–3 %v", w.o.requests, want)
		}
	})
}
