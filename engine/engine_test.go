package engine

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"testing"
	"testing/synctest"
	"time"
)

// run publishes segments from..to every 2 s to the given peers, then waits
// out the last deadline.
func (w *tworld) run(from, to int64, peers ...*tpeer) {
	for s := from; s <= to; s++ {
		w.publish(s, peers...)
		time.Sleep(2 * time.Second)
	}
	time.Sleep(6 * time.Second)
	synctest.Wait()
}

func meshOf(w *tworld, n int, cfg Config) []*tpeer {
	var ps []*tpeer
	for range n {
		ps = append(ps, w.add(cfg))
	}
	for i := range ps {
		for j := i + 1; j < len(ps); j++ {
			w.link(ps[i], ps[j])
		}
	}
	return ps
}

func TestStripesComeFromPeers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newTWorld(20)
		ps := meshOf(w, 4, Config{})
		// The first playlist shows three segments, as a host starts its player
		// behind the live edge; at the edge every segment is due when it
		// appears and the CDN completes it before any peer can (6 % of runs
		// ended with every stripe rooted).
		w.publish(0, ps...)
		w.publish(1, ps...)
		w.run(2, 12, ps...)
		var p2p int64
		for _, p := range ps {
			for s := int64(1); s <= 12; s++ {
				w.checkBytes(t, p, s)
			}
			p2p += p.eng.Stats().BytesP2P
		}
		roots := 0
		for _, p := range ps {
			for k := range p.eng.cfg.Stripes {
				up, root := p.eng.Upstream(k)
				if root {
					roots++
				} else if up == "" {
					t.Fatalf("%s stripe %d: neither fed nor root", p.id, k)
				}
			}
		}
		if p2p == 0 || roots >= 4*len(ps) {
			t.Fatalf("no P2P: bytes_p2p %d, %d root stripes of %d", p2p, roots, 4*len(ps))
		}
		t.Logf("bytes from peers %d, root stripes %d of %d", p2p, roots, 4*len(ps))
	})
}

// Config.PieceSize bounds every PIECE a peer sends (16 KiB by default), and
// the segments still come whole.
func TestPiecesAreAtMostPieceSize(t *testing.T) {
	for _, size := range []int{0, 4096} {
		synctest.Test(t, func(t *testing.T) {
			w := newTWorld(10)
			ps := meshOf(w, 4, Config{PieceSize: size})
			w.run(0, 6, ps...)
			largest := 0
			for _, p := range ps {
				for s := int64(1); s <= 6; s++ {
					w.checkBytes(t, p, s)
				}
				w.r.do(func() { largest = max(largest, p.piece) })
			}
			want := cmp.Or(size, 16<<10)
			if largest != want { // stripes of 25 KB: some piece is a whole one
				t.Fatalf("PieceSize %d: largest piece sent %d bytes, want %d", size, largest, want)
			}
		})
	}
}

func TestStripeBoundsCoverTheSegment(t *testing.T) {
	for _, size := range []int64{1, 7, 100, 100_003} {
		for _, n := range []int{1, 2, 3, 4, 7} {
			var next int64
			for k := range n {
				a, b := stripeBounds(size, k, n)
				if a != next || b < a {
					t.Fatalf("size %d stripes %d: stripe %d = [%d,%d)", size, n, k, a, b)
				}
				next = b
			}
			if next != size {
				t.Fatalf("size %d stripes %d end at %d", size, n, next)
			}
		}
	}
}

// Following upstream links from any peer ends at a root within MaxDepth.
// Two peers acting on each other's stale STATE can close a cycle for a
// moment; it must heal within a second (paths then hold the peer itself).
func checkNoLoops(t *testing.T, w *tworld, ps []*tpeer) {
	t.Helper()
	var err error
	w.r.do(func() { err = findLoop(ps) })
	if err == nil {
		return
	}
	time.Sleep(time.Second)
	synctest.Wait()
	w.r.do(func() { err = findLoop(ps) })
	if err != nil {
		t.Fatalf("a loop lasted a second: %v", err)
	}
}

func findLoop(ps []*tpeer) error {
	byID := map[PeerID]*tpeer{}
	for _, p := range ps {
		byID[p.id] = p
	}
	for _, p := range ps {
		for k := range p.eng.cfg.Stripes {
			cur, seen := p, []PeerID{}
			for {
				up, root := cur.eng.Upstream(k)
				if root || up == "" || cur.eng.up[k].pending {
					break
				}
				if slices.Contains(seen, up) {
					return fmt.Errorf("stripe %d: loop %v -> %s", k, seen, up)
				}
				seen = append(seen, up)
				if len(seen) > cur.eng.cfg.MaxDepth+1 {
					return fmt.Errorf("stripe %d: path %v deeper than the bound", k, seen)
				}
				cur = byID[up]
			}
		}
	}
	return nil
}

func TestNoLoopsUnderChurn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newTWorld(40)
		ps := meshOf(w, 10, Config{MaxDepth: 4, UploadCap: 200_000})
		for s := int64(0); s < 30; s++ {
			w.publish(s, ps...)
			time.Sleep(2 * time.Second)
			synctest.Wait()
			checkNoLoops(t, w, ps)
			if s%5 == 4 { // cut and restore a link
				a, b := ps[int(s)%len(ps)], ps[(int(s)*3+1)%len(ps)]
				if a != b {
					w.unlink(a, b)
					w.link(a, b)
				}
			}
		}
	})
}

func TestDeadlineFetchesOnlyMissingBytes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newTWorld(4)
		up := &tpeer{id: "up", r: w.r, links: map[PeerID]*tpeer{}, o: w.o} // driven by hand
		b := w.add(Config{Self: "b", Stripes: 2, Deadline: 3 * time.Second, CDNTime: 200 * time.Millisecond})
		w.r.do(func() {
			up.links[b.id], b.links[up.id] = b, up
			b.eng.OnSegment(segInfo(0, 0)) // fast start, from the CDN
			b.eng.AddNeighbour(up.id)
			// the upstream says it is a root of both stripes with room
			st := Message{Type: TState, Stripes: []StripeState{{Root: true, Fed: true, Slots: 3}, {Root: true, Fed: true, Slots: 3}}}
			_ = b.eng.OnMessage(up.id, &st)
		})
		time.Sleep(100 * time.Millisecond)
		synctest.Wait()
		w.r.do(func() {
			for k := range 2 {
				if err := b.eng.OnMessage(up.id, &Message{Type: TAccept, Stripe: uint8(k)}); err != nil {
					t.Fatal(err)
				}
			}
		})
		w.o.requests = nil
		w.publish(1, b)
		seg := w.o.segs[1]
		size := int64(len(seg))
		half := size / 2
		w.r.do(func() { // 10,000 bytes of stripe 0 arrive, nothing of stripe 1
			m := Message{Type: TPiece, Seg: segInfo(1, 0).ID, Size: uint32(size), Stripe: 0, Offset: 0, Data: seg[:10_000]}
			if err := b.eng.OnMessage(up.id, &m); err != nil {
				t.Fatal(err)
			}
		})
		time.Sleep(5 * time.Second)
		synctest.Wait()
		want := []string{fmt.Sprintf("b %d+%d", 10_000, half-10_000), fmt.Sprintf("b %d+%d", half, size-half)}
		slices.Sort(w.o.requests)
		slices.Sort(want)
		if !slices.Equal(w.o.requests, want) {
			t.Fatalf("CDN requests %v, want only the missing ranges %v", w.o.requests, want)
		}
		w.checkBytes(t, b, 1)
		if st := b.eng.Stats(); st.BytesP2P != 10_000 || st.Late != 2 || st.LateSegments != 1 {
			t.Fatalf("stats %+v: want 10,000 bytes from the peer, 2 stripes of 1 segment completed at the deadline", st)
		}
	})
}

func TestUpstreamDiesOrFreezes(t *testing.T) {
	for _, mode := range []string{"dies", "freezes"} {
		t.Run(mode, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				w := newTWorld(40)
				ps := meshOf(w, 5, Config{})
				w.run(0, 8, ps...)
				victim := ps[4]
				// the victim feeds someone?
				var fedBy []*tpeer
				for _, p := range ps[:4] {
					for k := range 4 {
						if up, _ := p.eng.Upstream(k); up == victim.id {
							fedBy = append(fedBy, p)
						}
					}
				}
				if len(fedBy) == 0 {
					t.Skip("victim feeds nobody in this topology")
				}
				if mode == "dies" {
					for _, p := range ps[:4] {
						w.unlink(victim, p)
					}
				} else {
					w.r.do(func() { victim.frozen = true })
				}
				w.run(9, 20, ps...)
				for _, p := range ps[:4] {
					for s := int64(9); s <= 20; s++ {
						w.checkBytes(t, p, s) // nothing missed, bytes intact
					}
					for k := range 4 {
						// (a retry with backoff may be pending: that is allowed)
						if up, _ := p.eng.Upstream(k); up == victim.id && !p.eng.up[k].pending {
							t.Fatalf("%s still takes stripe %d from the %s upstream", p.id, k, mode)
						}
					}
				}
				if mode == "freezes" && fedBy[0].eng.Stats().Dropped == 0 {
					t.Fatal("frozen upstream not counted as dropped")
				}
			})
		})
	}
}

func TestRetryBackoffDoubles(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newTWorld(1)
		p := w.add(Config{})
		n := &neighbour{id: "x"}
		var gaps []time.Duration
		w.r.do(func() {
			for range 4 {
				p.eng.penalize(n)
				gaps = append(gaps, n.retryAt-p.eng.clk.Now())
			}
		})
		if gaps[0] != retryBase || gaps[1] != 2*retryBase || gaps[3] != 8*retryBase {
			t.Fatalf("backoff %v", gaps)
		}
	})
}

func TestSegmentsOnceAndBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newTWorld(60)
		p := w.add(Config{CDNOnly: true})
		for s := int64(0); s < 50; s++ {
			w.publish(s, p)
			w.publish(s, p) // a playlist refresh repeats it
			time.Sleep(time.Second)
		}
		time.Sleep(5 * time.Second)
		synctest.Wait()
		if got := p.eng.Stats().Segments; got != 50 {
			t.Fatalf("%d segments ready, want 50 (each once)", got)
		}
		if len(p.eng.segs) > maxSegments {
			t.Fatalf("tracks %d segments, bound %d", len(p.eng.segs), maxSegments)
		}
		// a new encoder epoch reuses sequence numbers under new ids
		w.r.do(func() {
			info := segInfo(3, w.r.Now())
			info.ID = "1/3/seg3.ts"
			p.eng.OnSegment(info)
		})
		time.Sleep(5 * time.Second)
		synctest.Wait()
		if _, ok := p.got["1/3/seg3.ts"]; !ok {
			t.Fatal("segment of the new epoch not delivered")
		}
	})
}

func TestLyingPeerIsRefused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newTWorld(2)
		p := w.add(Config{Stripes: 2})
		w.r.do(func() {
			p.eng.AddNeighbour("liar")
			p.eng.OnSegment(segInfo(0, 0))
			ok := Message{Type: TPiece, Seg: "s", Size: 1000, Stripe: 0, Data: make([]byte, 10)}
			if err := p.eng.OnMessage("liar", &ok); err != nil {
				t.Fatal(err)
			}
			for _, m := range []Message{
				{Type: TPiece, Seg: "s", Size: 2000, Stripe: 0, Data: make([]byte, 10)},              // size changed
				{Type: TPiece, Seg: "s", Size: 1000, Stripe: 1, Offset: 495, Data: make([]byte, 10)}, // past its stripe
				{Type: TSubscribe, Stripe: 5}, // no such stripe
			} {
				if err := p.eng.OnMessage("liar", &m); !errors.Is(err, ErrWire) {
					t.Fatalf("%v: err %v, want ErrWire", m.Type, err)
				}
			}
		})
	})
}

func TestCDNBytesByReason(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newTWorld(10)
		ps := meshOf(w, 3, Config{})
		w.run(0, 6, ps...)
		for _, p := range ps {
			st := p.eng.Stats()
			if st.CDNStart+st.CDNRoot+st.CDNDeadline != st.BytesCDN || st.CDNStart == 0 {
				t.Fatalf("%s: CDN bytes %d = start %d + root %d + deadline %d?", p.id, st.BytesCDN, st.CDNStart, st.CDNRoot, st.CDNDeadline)
			}
		}
	})
}

// The player asking early moves the CDN completion earlier: a segment is never
// later than a CDN fetch from the moment it is needed.
func TestNeedMovesTheDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newTWorld(3)
		up := &tpeer{id: "up", r: w.r, links: map[PeerID]*tpeer{}, o: w.o} // feeds nothing
		b := w.add(Config{Self: "b", Stripes: 1, CDNTime: 100 * time.Millisecond})
		w.r.do(func() {
			up.links[b.id], b.links[up.id] = b, up
			b.eng.OnSegment(segInfo(0, 0))
			b.eng.AddNeighbour(up.id)
			st := Message{Type: TState, Stripes: []StripeState{{Root: true, Fed: true, Slots: 3}}}
			_ = b.eng.OnMessage(up.id, &st)
		})
		time.Sleep(100 * time.Millisecond)
		synctest.Wait()
		w.r.do(func() { _ = b.eng.OnMessage(up.id, &Message{Type: TAccept}) })
		start := time.Now()
		w.publish(1, b)
		w.r.do(func() { b.eng.Need(segInfo(1, 0).ID, w.r.Now()+500*time.Millisecond) })
		ready := func() (ok bool) {
			w.r.do(func() { _, ok = b.got[segInfo(1, 0).ID] })
			return ok
		}
		for !ready() {
			time.Sleep(10 * time.Millisecond)
		}
		if el := time.Since(start); el > 500*time.Millisecond {
			t.Fatalf("segment ready %v after it was needed within 500ms", el)
		}
		synctest.Wait()
		w.checkBytes(t, b, 1)
	})
}

// When a neighbour is lost, peers whose path runs through it are not taken
// as upstream for a while (their "fed" may be stale); afterwards they are.
func TestLostNeighboursSubtreeIsSuspect(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newTWorld(1)
		p := w.add(Config{})
		w.r.do(func() {
			p.eng.AddNeighbour("dead")
			p.eng.AddNeighbour("orphan")
			p.eng.AddNeighbour("other")
			dead := p.eng.nbrs["dead"].hash
			fed := func(path ...uint32) []StripeState {
				return []StripeState{{Path: path, Fed: true, Slots: 2}, {}, {}, {}}
			}
			p.eng.nbrs["orphan"].state = fed(dead)
			p.eng.nbrs["other"].state = fed(12345, 678)
			p.eng.RemoveNeighbour("dead")
			for range 20 {
				if c := p.eng.candidate(0, anyRoot, p.eng.cfg.MaxDepth); c == nil || c.id != "other" {
					t.Fatalf("candidate %v: the orphan (under the lost peer) was taken", c)
				}
			}
			p.eng.nbrs["other"].state = fed(12345) // and now only the orphan offers slots
			p.eng.nbrs["other"].state[0].Slots = 0
			if c := p.eng.candidate(0, anyRoot, p.eng.cfg.MaxDepth); c != nil {
				t.Fatalf("candidate %s within the suspect time", c.id)
			}
		})
		time.Sleep(suspectFor + time.Second)
		w.r.do(func() {
			if c := p.eng.candidate(0, anyRoot, p.eng.cfg.MaxDepth); c == nil || c.id != "orphan" {
				t.Fatalf("after the suspect time: %v", c)
			}
		})
	})
}

// The default deadline is 2 segments, at least 2 s; the default piece
// shrinks with the square of a short segment's duration.
func TestDefaultsForShortSegments(t *testing.T) {
	for d, want := range map[time.Duration]time.Duration{0: 2 * time.Second, 500 * time.Millisecond: 2 * time.Second,
		time.Second: 2 * time.Second, 1500 * time.Millisecond: 3 * time.Second, 2 * time.Second: 4 * time.Second,
		6 * time.Second: 12 * time.Second} {
		if got := DefaultDeadline(d); got != want {
			t.Errorf("DefaultDeadline(%v) = %v, want %v", d, got, want)
		}
	}
	e := New(Config{}, newReactor(), nil, nil, nil)
	for d, want := range map[time.Duration]int{0: 16 << 10, 500 * time.Millisecond: 4 << 10, time.Second: 4 << 10,
		1500 * time.Millisecond: 9 << 10, 2 * time.Second: 16 << 10, 6 * time.Second: 16 << 10} {
		if got := e.piece(&segment{info: SegmentInfo{Duration: d}}); got != want {
			t.Errorf("piece of a %v segment = %d, want %d", d, got, want)
		}
	}
	if got := New(Config{PieceSize: 8192}, newReactor(), nil, nil, nil).piece(&segment{info: SegmentInfo{Duration: time.Second}}); got != 8192 {
		t.Errorf("PieceSize 8192 set: piece %d", got)
	}
}

// A host may set PieceSize to 0 or MinPiece..MaxPiece; CheckPieceSize says
// which, with ErrPieceSize.
func TestCheckPieceSize(t *testing.T) {
	for _, ok := range []int{0, MinPiece, 4096, MaxPiece} {
		if err := CheckPieceSize(ok); err != nil {
			t.Errorf("CheckPieceSize(%d): %v", ok, err)
		}
	}
	for _, bad := range []int{-1, MinPiece - 1, MaxPiece + 1} {
		if err := CheckPieceSize(bad); !errors.Is(err, ErrPieceSize) {
			t.Errorf("CheckPieceSize(%d) = %v, want ErrPieceSize", bad, err)
		}
	}
}
