package engine

import (
	"errors"
	"testing"
	"testing/synctest"
	"time"
)

// publishWithDigests shows segment s to the peers, and its digests after lag.
func (w *tworld) publishWithDigests(s int64, lag time.Duration, peers ...*tpeer) {
	w.publish(s, peers...)
	data := w.o.segs[s]
	time.AfterFunc(lag, func() {
		w.r.do(func() {
			for _, p := range peers {
				_ = p.eng.OnDigests(segInfo(s, 0).ID, int64(len(data)), Digests(data, p.eng.cfg.Stripes))
			}
		})
	})
}

func TestDigestsLayout(t *testing.T) {
	data := make([]byte, 100_000)
	for i := range data {
		data[i] = byte(i * 7)
	}
	d := Digests(data, 4) // stripes of 25,000 bytes: 2 blocks each
	if len(d) != 8 || BlockCount(100_000, 4) != 8 || BlockCount(16384*4, 4) != 4 || blocksBefore(100_000, 3, 4) != 6 {
		t.Fatalf("%d digests, counts %d %d", len(d), BlockCount(100_000, 4), BlockCount(16384*4, 4))
	}
	if d[0] == d[1] || d[2] == [32]byte{} {
		t.Fatal("blocks not hashed apart")
	}
}

// One peer corrupts every piece it sends: no corrupted byte is used, and
// every peer it fed drops and reports it at the first bad block.
func TestPoisonerIsDroppedAndNoBadByteUsed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newTWorld(16)
		liar := w.add(Config{}) // first in the swarm: the root of every stripe, so it feeds the others
		liar.poison = true
		liar.eng.SetIntegrity(true)
		w.publishWithDigests(0, 30*time.Millisecond, liar)
		time.Sleep(2 * time.Second)
		ps := []*tpeer{liar}
		for range 5 { // consume-only: they can take only from the poisoner or the CDN
			ps = append(ps, w.add(Config{ConsumeOnly: true}))
		}
		for i := range ps {
			w.r.do(func() { ps[i].eng.SetIntegrity(true) })
			for j := i + 1; j < len(ps); j++ {
				w.link(ps[i], ps[j])
			}
		}
		// The newcomers start a segment behind the live edge, as hosts do
		// (StartWith), so their player has a segment of slack: at the live
		// edge every next segment is due as it appears, and the CDN takes it.
		w.publishWithDigests(0, 30*time.Millisecond, ps[1:]...)
		for s := int64(1); s <= 10; s++ {
			w.publishWithDigests(s, 30*time.Millisecond, ps...)
			time.Sleep(2 * time.Second)
		}
		time.Sleep(6 * time.Second)
		synctest.Wait()
		bad, reporters := int64(0), 0
		for _, p := range ps[1:] {
			for s := int64(2); s <= 10; s++ {
				w.checkBytes(t, p, s)
			}
			bad += p.eng.Stats().BadBlocks
			if p.blamed[liar.id] > 0 {
				reporters++
			}
			for id := range p.blamed {
				if id != liar.id {
					t.Errorf("%s blamed an honest peer %s", p.id, id)
				}
			}
			// caught at its first bad block: at most one per stripe, then the link is gone
			if b := p.eng.Stats().BadBlocks; b > int64(p.eng.cfg.Stripes) || b > 0 && p.blamed[liar.id] == 0 {
				t.Errorf("%s: %d bad blocks, reported the poisoner %d times", p.id, b, p.blamed[liar.id])
			}
			if p.blamed[liar.id] > 0 && p.links[liar.id] != nil {
				t.Errorf("%s reported the poisoner but kept its link", p.id)
			}
		}
		if bad == 0 || reporters == 0 {
			t.Fatalf("poisoner never caught: %d bad blocks, %d reporters", bad, reporters)
		}
		t.Logf("%d bad blocks thrown away, poisoner reported by %d of 5", bad, reporters)
	})
}

// Digests that never come: peers' bytes are not used, the CDN completes every
// stripe by the deadline, the player still gets every segment.
func TestNoDigestsMeansCDNNotUncheckedBytes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newTWorld(8)
		ps := meshOf(w, 3, Config{})
		w.r.do(func() {
			for _, p := range ps {
				p.eng.SetIntegrity(true)
			}
		})
		w.run(0, 5, ps...)
		for _, p := range ps {
			for s := int64(1); s <= 5; s++ {
				w.checkBytes(t, p, s)
			}
			if st := p.eng.Stats(); st.BadBlocks != 0 {
				t.Fatalf("%s: %d bad blocks without digests", p.id, st.BadBlocks)
			}
		}
		w.r.do(func() {
			if err := ps[0].eng.OnDigests("nope", 10, nil); !errors.Is(err, ErrDigests) {
				t.Fatalf("digests for an unknown segment: %v", err)
			}
			if err := ps[0].eng.OnDigests(segInfo(5, 0).ID, 10, nil); !errors.Is(err, ErrDigests) {
				t.Fatalf("digests of the wrong count: %v", err)
			}
		})
	})
}

// Bytes a poisoner sent for several segments wait for their digests; once
// the first digests show it lying, its bytes still waiting elsewhere are
// thrown away at once: one bad block counted, one report, and the other
// segments' digests find nothing of it to reject. The liar is driven by hand
// (its pieces handed to the engine directly), so the scenario is exact.
func TestPoisonerCaughtOnceAcrossWaitingSegments(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newTWorld(8)
		p := w.add(Config{ConsumeOnly: true})
		w.r.do(func() {
			p.eng.SetIntegrity(true)
			p.eng.AddNeighbour("liar")
			for s := int64(1); s <= 3; s++ {
				p.eng.OnSegment(segInfo(s, w.r.Now()))
			}
			for s := int64(1); s <= 3; s++ { // the first block of each stripe, inverted
				data := w.o.segs[s]
				for k := range 4 {
					a, _ := stripeBounds(int64(len(data)), k, 4)
					bad := append([]byte(nil), data[a:a+BlockSize]...)
					for i := range bad {
						bad[i] ^= 0x5a
					}
					m := &Message{Type: TPiece, Seg: segInfo(s, 0).ID, Size: uint32(len(data)), Stripe: uint8(k), Data: bad}
					if err := p.eng.OnMessage("liar", m); err != nil {
						t.Fatal(err)
					}
				}
			}
			for s := int64(1); s <= 3; s++ {
				data := w.o.segs[s]
				_ = p.eng.OnDigests(segInfo(s, 0).ID, int64(len(data)), Digests(data, 4))
			}
		})
		time.Sleep(8 * time.Second) // the CDN completes every stripe
		synctest.Wait()
		for s := int64(1); s <= 3; s++ {
			w.checkBytes(t, p, s)
		}
		if b := p.eng.Stats().BadBlocks; b != 1 || p.blamed["liar"] != 1 {
			t.Errorf("%d bad blocks, %d reports: want the liar caught exactly once", b, p.blamed["liar"])
		}
	})
}
