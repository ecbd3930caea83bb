package engine

import (
	"slices"
	"time"
)

// Climbing: a peer that extends stripe k's tree (k is its home, or it has
// children there) and sits two or more levels below a neighbour's free slot
// moves up to it, make-before-break. It subscribes to the shallower
// neighbour while its upstream keeps pushing; when that one accepts, a
// stripe in flight is finished by both, and the old upstream is left once it
// is complete. Trees grow by joins and repairs wherever a slot is free, so
// without this they deepen level by level: at 1,000 mixed viewers as many
// stripes sat 6–7 levels down as 1–2 (docs/BENCHMARKS.md, session 17).

// climbPause is the least time between two climbs in one stripe, and
// between taking an upstream and leaving it for a climb.
const climbPause = 5 * time.Second

// climb tries to move stripe k's upstream at least two levels up.
func (e *Engine) climb(k int) {
	u := &e.up[k]
	if e.cfg.NoClimb || u.peer == "" || u.pending || u.root || u.climb != "" || u.next != "" || e.clk.Now() < u.climbAt {
		return
	}
	if k != e.homeK && len(e.children[k]) == 0 {
		return // a leaf here: its depth costs only itself, and extenders need the shallow slots
	}
	n := e.nbrs[u.peer]
	if n == nil || k >= len(n.state) || !n.state[k].Fed || len(n.state[k].Path) < 2 {
		return // under a root or its child: no slot is two levels higher (this runs on every STATE)
	}
	c := e.candidate(k, anyRoot, len(n.state[k].Path)) // a path two hops shorter at least
	if c == nil || c.id == u.peer {
		return
	}
	id := c.id
	u.climb, u.climbAt = id, e.clk.Now()+climbPause
	e.stats.Climbs++
	e.send(id, &Message{Type: TSubscribe, Stripe: uint8(k)})
	u.climbStop = e.clk.AfterFunc(subscribeTimeout, func() {
		if e.up[k].climb == id {
			e.up[k].climb, e.up[k].climbStop = "", nil
			if c := e.nbrs[id]; c != nil {
				e.penalize(c)
			}
		}
	})
}

// holdUpstream keeps stripe k's new upstream for climbPause before a climb
// may leave it (a child that left at once cost it the accept and the
// catch-up for nothing, and in a small swarm left it with no child), then
// looks again.
func (e *Engine) holdUpstream(k int) {
	if e.cfg.NoClimb {
		return
	}
	e.up[k].climbAt = e.clk.Now() + climbPause
	e.clk.AfterFunc(climbPause, func() { e.climb(k) })
}

// climbed: the shallower neighbour accepted. It takes over now, or when the
// stripe in flight is complete (both push it meanwhile; addData keeps the
// first copy of each byte).
func (e *Engine) climbed(n *neighbour, k int) {
	u := &e.up[k]
	if u.climbStop != nil {
		u.climbStop()
	}
	u.climb, u.climbStop = "", nil
	if e.inFlight(k) {
		u.next = n.id
		return
	}
	e.switchTo(n, k)
}

// switchTo leaves stripe k's upstream for n, which has accepted.
func (e *Engine) switchTo(n *neighbour, k int) {
	u := &e.up[k]
	if u.peer != "" && e.nbrs[u.peer] != nil {
		e.send(u.peer, &Message{Type: TUnsubscribe, Stripe: uint8(k)})
	}
	if u.stop != nil {
		u.stop()
	}
	u.peer, u.pending, u.late, u.stop, u.next = n.id, false, 0, nil, ""
	n.failed = 0
	e.markDirty()
}

// climbDone: stripe k of a segment is complete; a climb accepted meanwhile
// takes over now.
func (e *Engine) climbDone(k int) {
	if n := e.nbrs[e.up[k].next]; n != nil {
		e.switchTo(n, k)
	}
}

// stopClimb gives up stripe k's climb: the shallower neighbour refused, went
// away, or is no longer a good upstream. One that had accepted is told.
func (e *Engine) stopClimb(k int) {
	u := &e.up[k]
	if u.climbStop != nil {
		u.climbStop()
	}
	for _, id := range [2]PeerID{u.climb, u.next} {
		if e.nbrs[id] != nil {
			e.send(id, &Message{Type: TUnsubscribe, Stripe: uint8(k)})
		}
	}
	u.climb, u.climbStop, u.next = "", nil, ""
}

// checkClimb gives up stripe k's climb to n if n's new STATE makes it no
// better an upstream: unfed, on a loop, or no longer two levels up.
func (e *Engine) checkClimb(n *neighbour, k int) {
	st, cur := n.state[k], e.nbrs[e.up[k].peer]
	if !st.Fed || slices.Contains(st.Path, e.self) || cur != nil && k < len(cur.state) && len(st.Path)+2 > len(cur.state[k].Path) {
		e.stopClimb(k)
	}
}

// inFlight reports that the newest segment's stripe k has started here and
// is not complete.
func (e *Engine) inFlight(k int) bool {
	if len(e.order) == 0 {
		return false
	}
	s := e.segs[e.order[len(e.order)-1]]
	return s != nil && !s.ready && s.stripes[k].got > 0 && !s.complete(k)
}
