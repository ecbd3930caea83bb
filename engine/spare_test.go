package engine

import (
	"testing"
	"testing/synctest"
	"time"
)

// A peer serves pulls only from the upload it has not promised to its
// children: (1 − Utilization) of its cap, with a saving of spareBurst.
func TestPullsSpendOnlySpareUpload(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newTWorld(2)
		asker := &tpeer{id: "asker", r: w.r, links: map[PeerID]*tpeer{}, o: w.o} // driven by hand
		// 50,000 B/s up, 0.8 promised: 10,000 B/s spare, 20,000 saved
		a := w.add(Config{Self: "a", Stripes: 4, UploadCap: 50_000, Utilization: 0.8})
		w.r.do(func() {
			asker.links[a.id], a.links[asker.id] = a, asker
			a.eng.OnSegment(segInfo(0, 0)) // fast start: a holds segment 0
		})
		time.Sleep(time.Second)
		synctest.Wait()
		w.checkBytes(t, a, 0)
		w.r.do(func() { a.eng.AddNeighbour(asker.id) })
		stripe := int64(len(w.o.segs[0]) / 4)
		served := func() (n int64) {
			for _, m := range asker.received() {
				if m.Type == TPiece {
					n += int64(len(m.Data))
				}
			}
			return n
		}
		ask := func() {
			w.r.do(func() {
				m := Message{Type: TRequest, Seg: segInfo(0, 0).ID, Stripe: 1, Length: uint32(stripe)}
				if err := a.eng.OnMessage(asker.id, &m); err != nil {
					t.Fatal(err)
				}
			})
			time.Sleep(10 * time.Millisecond)
			synctest.Wait()
		}
		for range 5 { // at once: the saving covers the first, the rest wait
			ask()
		}
		if got := served(); got != stripe {
			t.Fatalf("5 pulls at once served %d bytes, want one stripe (%d)", got, stripe)
		}
		for range 100 { // one every 100 ms for 10 s: about 10,000 B/s
			time.Sleep(90 * time.Millisecond)
			ask()
		}
		got := served()
		most := stripe + 11*10_000 + stripe // the first, 11 s of spare, one debt
		if got > most || got < 5*stripe {
			t.Fatalf("10 s of pulls served %d bytes, want between %d and %d (10,000 B/s spare)", got, 5*stripe, most)
		}
		t.Logf("served %d bytes in 11 s of pulls (spare 10,000 B/s, stripe %d)", got, stripe)
	})
}

// A new child gets the stripe of the segments in play that it has not said
// it holds (HAVE); what it holds is not sent again.
func TestCatchUpSkipsWhatTheChildHolds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newTWorld(2)
		a := w.add(Config{Self: "a", Stripes: 4})
		fresh := &tpeer{id: "fresh", r: w.r, links: map[PeerID]*tpeer{}, o: w.o} // driven by hand
		holds := &tpeer{id: "holds", r: w.r, links: map[PeerID]*tpeer{}, o: w.o}
		w.r.do(func() { a.eng.OnSegment(segInfo(0, 0)) })
		time.Sleep(time.Second)
		synctest.Wait()
		w.checkBytes(t, a, 0)
		size := uint32(len(w.o.segs[0]))
		for _, c := range []*tpeer{fresh, holds} {
			w.r.do(func() {
				c.links[a.id], a.links[c.id] = a, c
				a.eng.AddNeighbour(c.id)
				st := Message{Type: TState, Stripes: make([]StripeState, 4)}
				_ = a.eng.OnMessage(c.id, &st)
				if c == holds {
					have := Message{Type: THave, Seg: segInfo(0, 0).ID, Size: size, Have: 0xf}
					_ = a.eng.OnMessage(c.id, &have)
				}
			})
		}
		time.Sleep(100 * time.Millisecond)
		synctest.Wait()
		for _, c := range []*tpeer{fresh, holds} {
			w.r.do(func() { _ = a.eng.OnMessage(c.id, &Message{Type: TSubscribe, Stripe: uint8(a.eng.home())}) })
		}
		time.Sleep(100 * time.Millisecond)
		synctest.Wait()
		count := func(p *tpeer) (accepted bool, bytes int) {
			for _, m := range p.received() {
				accepted = accepted || m.Type == TAccept
				if m.Type == TPiece {
					bytes += len(m.Data)
				}
			}
			return
		}
		fa, fb := count(fresh)
		ha, hb := count(holds)
		if !fa || !ha {
			t.Fatalf("subscriptions not accepted: fresh %v, holds %v", fa, ha)
		}
		if want := int(size) / 4; fb != want || hb != 0 {
			t.Fatalf("catch-up sent %d bytes to the child without segment 0 (want its stripe, %d) and %d to the one holding it (want 0)", fb, want, hb)
		}
	})
}

// A new child is sent the newest segment's stripe only, not an older one
// the upstream also holds (due sooner, it would hold up the newer one on
// the child's link).
func TestCatchUpBringsOnlyTheNewestSegment(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newTWorld(2)
		a := w.add(Config{Self: "a", Stripes: 4})
		kid := &tpeer{id: "kid", r: w.r, links: map[PeerID]*tpeer{}, o: w.o}
		for seq := range int64(2) {
			w.r.do(func() { a.eng.OnSegment(segInfo(seq, 0)) })
			time.Sleep(time.Second)
			synctest.Wait()
			w.checkBytes(t, a, seq)
		}
		w.r.do(func() {
			kid.links[a.id], a.links[kid.id] = a, kid
			a.eng.AddNeighbour(kid.id)
			_ = a.eng.OnMessage(kid.id, &Message{Type: TState, Stripes: make([]StripeState, 4)})
		})
		time.Sleep(100 * time.Millisecond)
		synctest.Wait()
		w.r.do(func() { _ = a.eng.OnMessage(kid.id, &Message{Type: TSubscribe, Stripe: uint8(a.eng.home())}) })
		time.Sleep(100 * time.Millisecond)
		synctest.Wait()
		bytes := map[string]int{}
		for _, m := range kid.received() {
			if m.Type == TPiece {
				bytes[m.Seg] += len(m.Data)
			}
		}
		newest := segInfo(1, 0).ID
		if len(bytes) != 1 || bytes[newest] != len(w.o.segs[1])/4 {
			t.Fatalf("catch-up sent %v, want only segment 1's stripe (%d bytes of %s)", bytes, len(w.o.segs[1])/4, newest)
		}
	})
}
