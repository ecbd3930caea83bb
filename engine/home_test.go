package engine

import (
	"fmt"
	"testing"
	"testing/synctest"
	"time"
)

// TestEveryPeerOfASmallSwarmUploads: one peer starts the swarm, two join
// at once (they cannot see each other's home stripe yet and may pick the
// same), two more join later. Five peers for four stripes: every stripe
// has a home, and every peer but at most one feeds someone (each peer can
// feed all four children of its home stripe, so the fifth, sharing a home
// with a peer higher in that tree, may rightly have none). Repeated over
// many namings (a peer's name decides its tie-breaks).
func TestEveryPeerOfASmallSwarmUploads(t *testing.T) {
	for run := range 24 {
		t.Run(fmt.Sprint(run), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { smallSwarmUploads(t, run) })
		})
	}
}

func smallSwarmUploads(t *testing.T, run int) {
	w := newTWorld(40)
	var ps []*tpeer
	join := func() {
		p := w.add(Config{Self: PeerID(fmt.Sprintf("r%d-p%d", run, len(ps))), Seed: uint64(run)})
		for _, q := range ps {
			w.link(p, q)
		}
		ps = append(ps, p)
	}
	for s := range int64(24) {
		switch s {
		case 0:
			join()
		case 2, 7: // two at once: the second links while the first is choosing
			join()
			time.Sleep(20 * time.Millisecond)
			join()
		}
		w.publish(s, ps...)
		time.Sleep(2 * time.Second)
	}
	time.Sleep(6 * time.Second)
	synctest.Wait()
	homes := map[int]bool{}
	var idle []string
	for _, p := range ps {
		homes[p.eng.homeK] = true
		for s := int64(10); s <= 23; s++ {
			w.checkBytes(t, p, s)
		}
		var st Stats
		w.r.do(func() { st = p.eng.Stats() })
		if st.BytesUploaded == 0 {
			idle = append(idle, fmt.Sprintf("%s (home stripe %d, %d bytes from peers)", p.id, p.eng.homeK, st.BytesP2P))
		}
	}
	if len(idle) > len(ps)-4 {
		t.Errorf("%d of %d peers uploaded nothing: %v", len(idle), len(ps), idle)
	}
	if len(homes) != 4 {
		t.Errorf("5 peers, 4 stripes: homes %v leave a stripe without one", homes)
		for _, p := range ps {
			w.r.do(func() {
				e := p.eng
				cnt, lower := e.homeCounts(e.homeK)
				var kids []int
				for k := range e.children {
					kids = append(kids, len(e.children[k]))
				}
				var sl [][]uint8
				for _, n := range e.neighbours() {
					var x []uint8
					for _, st := range n.state {
						x = append(x, st.Slots)
					}
					sl = append(sl, x)
				}
				t.Logf("%s hash %d home %d kids %v counts %v lower %v nbrs %d slots seen %v cap %d", p.id, e.self, e.homeK, kids, cnt[:4], lower, len(e.nbrs), sl, e.capacity())
			})
		}
	}
}

// A root with a subtree joins a tree whose root sorts above it only after
// the merge wait, and only next to that root.
func TestRootWithSubtreeMergesUpAfterAWait(t *testing.T) {
	for _, hops := range []int{0, 2} {
		t.Run(fmt.Sprintf("candidate %d hops from its root", hops), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { mergeUp(t, hops) })
		})
	}
}

func mergeUp(t *testing.T, hops int) {
	w := newTWorld(2)
	a := w.add(Config{Self: "a", Stripes: 4})
	hand := func(id PeerID) *tpeer {
		p := &tpeer{id: id, r: w.r, links: map[PeerID]*tpeer{}, o: w.o}
		w.r.do(func() {
			p.links[a.id], a.links[p.id] = a, p
			a.eng.AddNeighbour(p.id)
		})
		return p
	}
	above := func(prefix string) PeerID { // an id whose hash sorts above a's
		for i := 0; ; i++ {
			if id := PeerID(fmt.Sprintf("%s%d", prefix, i)); Hash(id) > Hash(a.id) {
				return id
			}
		}
	}
	child := hand("child")
	w.r.do(func() {
		a.eng.OnSegment(segInfo(0, 0)) // no upstream anywhere: a roots every stripe
		_ = a.eng.OnMessage(child.id, &Message{Type: TState, Stripes: make([]StripeState, 4)})
	})
	time.Sleep(100 * time.Millisecond)
	synctest.Wait()
	h := 0
	w.r.do(func() {
		h = a.eng.home()
		_ = a.eng.OnMessage(child.id, &Message{Type: TSubscribe, Stripe: uint8(h)})
	})
	other := hand(above("x"))
	st := Message{Type: TState, Stripes: make([]StripeState, 4)}
	st.Stripes[h] = StripeState{Root: hops == 0, Fed: true, Slots: 3}
	for range hops {
		st.Stripes[h].Path = append(st.Stripes[h].Path, Hash(above(fmt.Sprintf("r%d-", len(st.Stripes[h].Path)))))
	}
	w.r.do(func() { _ = a.eng.OnMessage(other.id, &st) })
	subscribed := func() bool {
		for _, m := range other.received() {
			if m.Type == TSubscribe && int(m.Stripe) == h {
				return true
			}
		}
		return false
	}
	time.Sleep(mergeWait - time.Second)
	synctest.Wait()
	if _, root := a.eng.Upstream(h); !root || len(a.eng.children[h]) != 1 || subscribed() {
		t.Fatalf("before the merge wait: root %v with %d children, subscribed to the higher tree %v",
			root, len(a.eng.children[h]), subscribed())
	}
	time.Sleep(mergeJitter + 2*time.Second)
	synctest.Wait()
	if want := hops == 0; subscribed() != want {
		t.Fatalf("after the merge wait, candidate %d hops from its root: subscribed %v, want %v", hops, subscribed(), want)
	}
}

// A full peer makes room for a peer that can widen its tree by dropping a
// leaf child (push-down), never a child that has children of its own.
func TestPushDownDropsOnlyALeaf(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newTWorld(2)
		// 31,250 B/s at 0.8 over 4 stripes of a 50,000 B/s stream: 2 children
		p := w.add(Config{Self: "p", Stripes: 4, UploadCap: 31_250})
		hand := func(id PeerID, st StripeState, k int) *tpeer {
			q := &tpeer{id: id, r: w.r, links: map[PeerID]*tpeer{}, o: w.o}
			w.r.do(func() {
				q.links[p.id], p.links[q.id] = p, q
				p.eng.AddNeighbour(q.id)
				m := Message{Type: TState, Stripes: make([]StripeState, 4)}
				if k >= 0 {
					m.Stripes[k] = st
				}
				_ = p.eng.OnMessage(q.id, &m)
			})
			return q
		}
		leaf := hand("leaf", StripeState{}, -1)
		inner := hand("inner", StripeState{}, -1)
		w.r.do(func() { p.eng.OnSegment(segInfo(0, 0)) })
		time.Sleep(100 * time.Millisecond)
		synctest.Wait()
		h := -1
		w.r.do(func() { h = p.eng.home() })
		if h < 0 {
			t.Fatal("no home stripe chosen")
		}
		for _, c := range []*tpeer{inner, leaf} {
			w.r.do(func() { _ = p.eng.OnMessage(c.id, &Message{Type: TSubscribe, Stripe: uint8(h)}) })
		}
		w.r.do(func() { // inner has a child of its own now
			m := Message{Type: TState, Stripes: make([]StripeState, 4)}
			m.Stripes[h] = StripeState{Fed: true, Kids: true, Path: []uint32{Hash(p.id)}}
			_ = p.eng.OnMessage(inner.id, &m)
		})
		ext := hand("ext", StripeState{Slots: 3}, h)
		w.r.do(func() { _ = p.eng.OnMessage(ext.id, &Message{Type: TSubscribe, Stripe: uint8(h)}) })
		time.Sleep(100 * time.Millisecond)
		synctest.Wait()
		got := func(q *tpeer, typ Type) bool {
			for _, m := range q.received() {
				if m.Type == typ && int(m.Stripe) == h {
					return true
				}
			}
			return false
		}
		if !got(inner, TAccept) || !got(leaf, TAccept) {
			t.Fatalf("the first two subscriptions were not accepted")
		}
		if got(inner, TReject) || !got(leaf, TReject) || !got(ext, TAccept) {
			t.Fatalf("push-down: inner rejected %v, leaf rejected %v, extender accepted %v; want false, true, true",
				got(inner, TReject), got(leaf, TReject), got(ext, TAccept))
		}
	})
}
