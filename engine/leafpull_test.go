package engine

import (
	"fmt"
	"slices"
	"testing"
	"testing/synctest"
	"time"
)

// With LeafPull, a peer that roots stripes in which it has no child does not
// take them from the CDN when a segment appears: it asks a neighbour that
// holds the segment (HAVE) for them, and the CDN is asked only at the
// deadline for what did not come.
func TestLeafRootPullsInsteadOfTheCDN(t *testing.T) {
	for _, serves := range []bool{true, false} {
		t.Run(fmt.Sprintf("holder serves %v", serves), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { leafPull(t, serves) })
		})
	}
}

func leafPull(t *testing.T, serves bool) {
	w := newTWorld(3)
	b := w.add(Config{Self: "b", Stripes: 4, LeafPull: true})
	up := w.rootOfAllButStripeZero(b, true) // a HELLO: up uploads more than the stream
	w.r.do(func() {
		for k := 1; k < 4; k++ {
			if !b.eng.leafRoot(k) {
				t.Errorf("stripe %d: not a leaf root", k)
			}
		}
		w.o.requests = nil
	})
	w.publish(1, b)
	seg := w.o.segs[1]
	id := segInfo(1, 0).ID
	piece := func(k int) {
		a, z := stripeBounds(int64(len(seg)), k, 4)
		m := Message{Type: TPiece, Seg: id, Size: uint32(len(seg)), Stripe: uint8(k), Data: seg[a:z]}
		if err := b.eng.OnMessage(up.id, &m); err != nil {
			t.Fatal(err)
		}
	}
	w.r.do(func() {
		piece(0) // the upstream's push
		_ = b.eng.OnMessage(up.id, &Message{Type: THave, Seg: id, Size: uint32(len(seg)), Have: 0xf})
	})
	time.Sleep(100 * time.Millisecond)
	synctest.Wait()
	var asked []int
	for _, m := range up.received() {
		if m.Type == TRequest && m.Seg == id {
			a, z := stripeBounds(int64(len(seg)), int(m.Stripe), 4)
			if m.Offset != 0 || int64(m.Length) != z-a {
				t.Fatalf("stripe %d: asked %d+%d, want the whole stripe 0+%d", m.Stripe, m.Offset, m.Length, z-a)
			}
			asked = append(asked, int(m.Stripe))
		}
	}
	slices.Sort(asked) // messages sent at one instant arrive in any order
	if !slices.Equal(asked, []int{1, 2, 3}) {
		t.Fatalf("pulled stripes %v, want the leaf-rooted 1, 2, 3", asked)
	}
	var pulls int64
	w.r.do(func() { pulls = b.eng.Stats().LeafPulls })
	if pulls != 3 {
		t.Errorf("leaf_pulls %d, want 3", pulls)
	}
	var early []string
	w.r.do(func() { early = slices.Clone(w.o.requests) })
	if len(early) != 0 {
		t.Fatalf("CDN asked %v before the deadline", early)
	}
	if serves {
		w.r.do(func() {
			for k := 1; k < 4; k++ {
				piece(k)
			}
		})
	}
	time.Sleep(6 * time.Second) // past the deadline
	synctest.Wait()
	var got []string
	w.r.do(func() { w.checkBytes(t, b, 1); got = slices.Clone(w.o.requests) })
	var want []string
	if !serves {
		for k := 1; k < 4; k++ {
			a, z := stripeBounds(int64(len(seg)), k, 4)
			want = append(want, fmt.Sprintf("b %d+%d", a, z-a))
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("CDN requests %v, want %v", got, want)
	}
	if n := countRequests(up.received(), id); !serves && n < 6 {
		t.Fatalf("%d pulls of a silent holder, want the 3 asked again every %v until the deadline", n, pullRetry)
	}
}

func countRequests(ms []Message, seg string) int {
	n := 0
	for _, m := range ms {
		if m.Type == TRequest && m.Seg == seg {
			n++
		}
	}
	return n
}

// A leaf root whose playlist is behind its upstream's gets the pushed stripe
// and the HAVE before the segment is in its playlist: it asks for the
// stripes it roots as soon as the segment appears, not at the repair
// half-way to the deadline. (A HAVE for a segment of which nothing has come
// is not kept: a neighbour's HAVE for an old segment would then pass for the
// newest.)
func TestLeafRootPullsWhatItHeardOfBeforeItsPlaylist(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newTWorld(3)
		b := w.add(Config{Self: "b", Stripes: 4, LeafPull: true})
		up := w.rootOfAllButStripeZero(b, true)
		seg := w.o.segs[1]
		id := segInfo(1, 0).ID
		w.r.do(func() {
			_, z := stripeBounds(int64(len(seg)), 0, 4)
			push := Message{Type: TPiece, Seg: id, Size: uint32(len(seg)), Stripe: 0, Data: seg[:z]}
			if err := b.eng.OnMessage(up.id, &push); err != nil {
				t.Fatal(err)
			}
			_ = b.eng.OnMessage(up.id, &Message{Type: THave, Seg: id, Size: uint32(len(seg)), Have: 0xf})
		})
		time.Sleep(500 * time.Millisecond)
		synctest.Wait()
		if n := countRequests(up.received(), id); n != 0 {
			t.Fatalf("%d requests before the segment was in the playlist", n)
		}
		w.publish(1, b)
		time.Sleep(100 * time.Millisecond) // the repair comes at about 1.7 s
		synctest.Wait()
		var pulls int64
		w.r.do(func() { pulls = b.eng.Stats().LeafPulls })
		if n := countRequests(up.received(), id); n != 3 || pulls != 3 {
			t.Fatalf("%d requests, leaf_pulls %d within 100 ms of the segment appearing, want 3 (stripes 1-3)", n, pulls)
		}
	})
}
