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
		b := w.add(Config{Self: "b", Stripes: 4})
		w.rootOfAllButStripeZero(b, false)
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

// A peer passes on what it gets in time, and also what it completes from the
// CDN at its deadline when its upstream failed it: a child's deadline can
// be later than its own (each saw the segment on its own playlist poll).
// Not passing these on cost a 20-process swarm a tenth of its offload for
// 12 s after 6 of its peers were killed (TestThirtyPercentOfPeersKilled).
func TestLateSegmentIsForwarded(t *testing.T) {
	for _, onTime := range []bool{true, false} {
		t.Run(fmt.Sprintf("upstream on time %v", onTime), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { lateForward(t, onTime) })
		})
	}
}

func lateForward(t *testing.T, onTime bool) {
	w := newTWorld(3)
	up := &tpeer{id: "up", r: w.r, links: map[PeerID]*tpeer{}, o: w.o}   // driven by hand
	kid := &tpeer{id: "kid", r: w.r, links: map[PeerID]*tpeer{}, o: w.o} // driven by hand
	b := w.add(Config{Self: "b", Stripes: 2})
	w.r.do(func() {
		for _, q := range []*tpeer{up, kid} {
			q.links[b.id], b.links[q.id] = b, q
		}
		b.eng.OnSegment(segInfo(0, 0)) // fast start, from the CDN
		b.eng.AddNeighbour(up.id)
		b.eng.AddNeighbour(kid.id)
		_ = b.eng.OnMessage(kid.id, &Message{Type: TState, Stripes: make([]StripeState, 2)})
		root := StripeState{Root: true, Fed: true, Slots: 3}
		_ = b.eng.OnMessage(up.id, &Message{Type: TState, Stripes: []StripeState{root, root}})
	})
	time.Sleep(100 * time.Millisecond)
	synctest.Wait()
	h := -1
	w.r.do(func() {
		for k := range 2 {
			_ = b.eng.OnMessage(up.id, &Message{Type: TAccept, Stripe: uint8(k)})
		}
		h = b.eng.home()
		_ = b.eng.OnMessage(kid.id, &Message{Type: TSubscribe, Stripe: uint8(h)})
	})
	time.Sleep(100 * time.Millisecond)
	synctest.Wait()
	w.publish(1, b)
	seg := w.o.segs[1]
	if onTime {
		w.r.do(func() {
			for k := range 2 {
				a, z := stripeBounds(int64(len(seg)), k, 2)
				m := Message{Type: TPiece, Seg: segInfo(1, 0).ID, Size: uint32(len(seg)), Stripe: uint8(k), Data: seg[a:z]}
				if err := b.eng.OnMessage(up.id, &m); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
	time.Sleep(6 * time.Second) // past the deadline
	synctest.Wait()
	w.checkBytes(t, b, 1)
	accepted, got := false, 0
	for _, m := range kid.received() {
		accepted = accepted || m.Type == TAccept && int(m.Stripe) == h
		if m.Type == TPiece && m.Seg == segInfo(1, 0).ID {
			got += len(m.Data)
		}
	}
	a, z := stripeBounds(int64(len(seg)), h, 2)
	switch {
	case !accepted:
		t.Fatalf("the child's subscription to stripe %d was not accepted", h)
	case got != int(z-a):
		t.Fatalf("upstream on time %v: the child got %d bytes of segment 1, want its stripe (%d)", onTime, got, z-a)
	}
}

// The player starts when the fast-start segment is ready, which on a fast
// CDN is well before the engine's first guess (the first OnSegment plus
// CDNTime). The completions of later segments are due on the player's real
// schedule: on the guess, 0.5 s segments stalled in the simulator.
func TestDeadlineFollowsThePlayersStart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w, b := silentUpstreamWorld(3, Config{Deadline: 10 * time.Second})
		before := w.requestCount()
		w.publish(1, b) // due 2 s after the player's start: its completion starts 2 × CDNTime before
		// CDNTime is 0.605 s once the fast start is measured. On the guess the
		// player starts at 0.8 s, so the completion would start at 1.59 s; from
		// the fast start's arrival, 20 ms, it starts at 0.81 s.
		time.Sleep(900 * time.Millisecond)
		synctest.Wait()
		if w.requestCount() == before {
			t.Fatalf("no CDN completion of segment 1 by %v: its deadline still follows the guessed start", w.r.Now())
		}
		time.Sleep(time.Second)
		synctest.Wait()
		w.checkBytes(t, b, 1)
	})
}

// A player that starts after its peer (a proxy's, opened later) needs each
// segment later than the fast start implies: its first segment sets the
// schedule, and the CDN completions follow it (Playing).
func TestDeadlineFollowsAPlayerThatStartsLate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w, b := silentUpstreamWorld(3, Config{Deadline: 10 * time.Second})
		before := w.requestCount()
		w.publish(1, b) // due 2 s after the player's start, its completion 1.21 s before
		time.Sleep(300 * time.Millisecond)
		synctest.Wait()
		w.r.do(func() { b.eng.Playing(segInfo(0, 0).ID, w.r.Now()) }) // the player starts 0.58 s after the fast start
		// From the fast start the completion would start at 0.81 s; from the
		// player's start at 1.39 s.
		w.completesAfter(t, b, 1, before, 600*time.Millisecond, 300*time.Millisecond, "the completion still follows the fast start")
	})
}

// hls.js loads a segment as soon as its playlist lists it, seconds before
// its turn: a Playing call for a segment before its turn does not move the
// player's schedule earlier, so its CDN completion keeps its time.
func TestPlayingBeforeTheTurnKeepsTheSchedule(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w, b := silentUpstreamWorld(5, Config{Deadline: 10 * time.Second, AwaitPlayer: true})
		before := w.requestCount()
		w.publish(3, b)
		// Segment 3 is the player's turn at 6.02 s (3 segments after the fast
		// start), segment 4 at 8.02 s; their completions start 1.21 s before.
		// Taking the load of 3 at 0.3 s for its turn would put 4's at 2.3 s.
		w.r.do(func() { b.eng.Playing(segInfo(3, 0).ID, w.r.Now()) })
		w.publish(4, b)
		w.completesAfter(t, b, 3, before, 4*time.Second, 2*time.Second, "a player loading ahead moved its turn earlier")
		time.Sleep(2 * time.Second)
		synctest.Wait()
		w.checkBytes(t, b, 4)
	})
}

// The player learns of a ready segment at its next playlist reload, every
// half target duration: with ReloadLag the completion starts that much
// earlier, so short segments keep more time for their peers.
func TestMarginFollowsThePlayersReloads(t *testing.T) {
	e := New(Config{Self: "a", MinMargin: 500 * time.Millisecond, ReloadLag: true, CDNTime: 100 * time.Millisecond}, nil, nil, nil, nil)
	for _, c := range []struct{ d, want time.Duration }{
		{500 * time.Millisecond, time.Second}, {time.Second, time.Second}, {1500 * time.Millisecond, 1500 * time.Millisecond},
		{2 * time.Second, 1500 * time.Millisecond}, {6 * time.Second, 3500 * time.Millisecond},
	} {
		if got := e.margin(c.d); got != c.want {
			t.Errorf("margin(%v) = %v, want %v", c.d, got, c.want)
		}
	}
	slow := New(Config{Self: "a", MinMargin: 500 * time.Millisecond, ReloadLag: true, CDNTime: time.Second}, nil, nil, nil, nil)
	if got := slow.margin(500 * time.Millisecond); got != 2*time.Second {
		t.Errorf("a slow CDN: margin %v, want 2 s", got)
	}
	plain := New(Config{Self: "a", MinMargin: 1500 * time.Millisecond, CDNTime: 100 * time.Millisecond}, nil, nil, nil, nil)
	if got := plain.margin(500 * time.Millisecond); got != 1500*time.Millisecond {
		t.Errorf("without ReloadLag: margin %v, want MinMargin", got)
	}
}

// With AwaitPlayer a segment after the start ones is due at its deadline
// alone until the host says the player took one: nothing is completed early
// for a player that has not started.
func TestAwaitPlayerKeepsTheDeadlineUntilThePlayerStarts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w, b := silentUpstreamWorld(5, Config{Deadline: 10 * time.Second, AwaitPlayer: true})
		// Segment 3, after the start ones (0–2), at 0.3 s: on the fast start's
		// schedule it is due at 6.02 s, its completion 1.21 s before; awaiting
		// the player, it is due at its deadline, 10.3 s.
		before := w.requestCount()
		w.publish(3, b)
		w.completesAfter(t, b, 3, before, 6*time.Second, 3*time.Second, "before the player started")
	})
}

// completesAfter checks that b sends the CDN no request beyond the origin's
// first `before` for another quiet (why says what one would mean), then
// completes segment s within the next `within`, with the origin's bytes.
func (w *tworld) completesAfter(t *testing.T, b *tpeer, s int64, before int, quiet, within time.Duration, why string) {
	t.Helper()
	time.Sleep(quiet)
	synctest.Wait()
	if n := w.requestCount(); n != before {
		t.Fatalf("%d CDN requests by %v: %s", n-before, w.r.Now(), why)
	}
	time.Sleep(within)
	synctest.Wait()
	if w.requestCount() == before {
		t.Fatalf("no CDN completion of segment %d by %v", s, w.r.Now())
	}
	time.Sleep(time.Second)
	synctest.Wait()
	w.checkBytes(t, b, s)
}

// requestCount is how many CDN requests the origin had, read on the reactor.
func (w *tworld) requestCount() (n int) {
	w.r.do(func() { n = len(w.o.requests) })
	return n
}

// silentUpstreamWorld is peer b (2 stripes, CDNTime 0.8 s, cfg's deadline)
// after its fast start (segment 0, ready after 20 ms), subscribed at 0.3 s
// to an upstream that accepts both stripes and never sends.
func silentUpstreamWorld(nseg int, cfg Config) (*tworld, *tpeer) {
	w := newTWorld(nseg)
	up := &tpeer{id: "up", r: w.r, links: map[PeerID]*tpeer{}, o: w.o}
	cfg.Self, cfg.Stripes, cfg.CDNTime = "b", 2, 800*time.Millisecond
	b := w.add(cfg)
	w.r.do(func() {
		up.links[b.id], b.links[up.id] = b, up
		b.eng.OnSegment(segInfo(0, 0))
		b.eng.AddNeighbour(up.id)
		root := StripeState{Root: true, Fed: true, Slots: 3}
		_ = b.eng.OnMessage(up.id, &Message{Type: TState, Stripes: []StripeState{root, root}})
	})
	time.Sleep(100 * time.Millisecond)
	synctest.Wait()
	w.r.do(func() {
		for k := range 2 {
			_ = b.eng.OnMessage(up.id, &Message{Type: TAccept, Stripe: uint8(k)})
		}
	})
	time.Sleep(200 * time.Millisecond)
	synctest.Wait()
	return w, b
}

// A player that says when it plays a segment (Due) sets the schedule in
// either direction, past the deadline too: hls.js holds back further than
// the engine guesses.
func TestDueSetsTheTurnBothWays(t *testing.T) {
	for _, c := range []struct {
		name          string
		deadline, in  time.Duration
		quiet, within time.Duration
	}{
		// deadline 10.3 s; the player's turn at 4.3 s: completion about 1.2 s before
		{"earlier than the deadline", 10 * time.Second, 4 * time.Second, 2500 * time.Millisecond, 1500 * time.Millisecond},
		// deadline 2.3 s (its completion would start at 1.1 s); the turn at 6.3 s
		{"later than the deadline", 2 * time.Second, 6 * time.Second, 4500 * time.Millisecond, 1500 * time.Millisecond},
	} {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				w, b := silentUpstreamWorld(5, Config{Deadline: c.deadline, AwaitPlayer: true, ReloadLag: true})
				before := w.requestCount()
				w.publish(3, b)
				w.r.do(func() { b.eng.Due(segInfo(3, 0).ID, w.r.Now()+c.in) })
				w.completesAfter(t, b, 3, before, c.quiet, c.within, "the completion did not follow the player's turn")
			})
		})
	}
}

// A newcomer's first playlist holds StartWith segments: the first is the
// fast start, the others its backlog, which no tree pushes; with no link up
// it roots them. Their CDN bytes are counted as the backlog (Stats), and
// those of later segments are not.
func TestBacklogCounted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newTWorld(4)
		b := w.add(Config{Self: "b", Stripes: 2, StartWith: 3})
		w.publish(0, b)
		w.publish(1, b)
		w.publish(2, b)
		time.Sleep(time.Second)
		synctest.Wait()
		var st Stats
		w.r.do(func() { st = b.eng.Stats() })
		start, backlog := int64(len(w.o.segs[0])), int64(len(w.o.segs[1])+len(w.o.segs[2]))
		if st.CDNStart != start || st.CDNBacklog != backlog || st.CDNRoot != backlog {
			t.Fatalf("fast start %d, root %d, backlog %d bytes; want %d, %d, %d", st.CDNStart, st.CDNRoot, st.CDNBacklog, start, backlog, backlog)
		}
		w.publish(3, b)
		time.Sleep(time.Second)
		synctest.Wait()
		w.r.do(func() { st = b.eng.Stats() })
		if later := int64(len(w.o.segs[3])); st.CDNRoot != backlog+later || st.CDNBacklog != backlog {
			t.Fatalf("after a newer segment: root %d, backlog %d bytes; want %d, %d", st.CDNRoot, st.CDNBacklog, backlog+later, backlog)
		}
		for s := range int64(4) {
			w.checkBytes(t, b, s)
		}
	})
}
