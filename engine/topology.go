package engine

import (
	"slices"
	"time"
)

// Topology: one upstream per stripe, bounded children, no loops (a peer never
// takes an upstream whose path holds itself), bounded depth, and roots that
// merge into the tree of a lower-hash root when one is reachable.

const (
	subscribeTimeout = 2 * time.Second
	retryBase        = 5 * time.Second
	retryMax         = 2 * time.Minute
	stateFlushDelay  = 50 * time.Millisecond
	rejectPause      = 4 * time.Second
)

// path is this peer's ancestors in stripe k's tree, and whether it is fed.
func (e *Engine) path(k int) ([]uint32, bool) {
	u := e.up[k]
	switch {
	case u.root:
		return nil, true
	case u.peer == "" || u.pending:
		return nil, false
	}
	n := e.nbrs[u.peer]
	if n == nil || k >= len(n.state) || !n.state[k].Fed {
		return nil, false
	}
	return append(slices.Clone(n.state[k].Path), n.hash), true
}

func (e *Engine) myState() Message {
	m := Message{Type: TState, Stripes: make([]StripeState, e.cfg.Stripes)}
	for k := range m.Stripes {
		p, fed := e.path(k)
		m.Stripes[k] = StripeState{Path: p, Root: e.up[k].root, Fed: fed, Slots: e.advertisedSlots(k),
			Swap: fed && k == e.homeK && e.slotsFor(k) == 0 && e.leafChild(k) != nil, Kids: len(e.children[k]) > 0}
	}
	return m
}

// markDirty schedules one STATE broadcast for changes made now.
func (e *Engine) markDirty() {
	e.dirty = true
	if e.flushing {
		return
	}
	e.flushing = true
	e.clk.AfterFunc(stateFlushDelay, func() {
		e.flushing = false
		if !e.dirty {
			return
		}
		e.dirty = false
		st := e.myState()
		enc := st.Encode(e.lastState[:0:0])
		if string(enc) == string(e.lastState) {
			return // nothing a neighbour would see changed
		}
		e.lastState = enc
		for _, id := range e.nbrIDs {
			e.send(id, &st)
		}
	})
}

func (e *Engine) onState(n *neighbour, m *Message) {
	if len(m.Stripes) != e.cfg.Stripes {
		return // a peer with another stripe count cannot feed us
	}
	n.state = m.Stripes
	if e.homeK < 0 && e.home() >= 0 {
		e.markDirty() // the home is chosen: advertise its slots
	}
	e.rehome()
	for k := range e.up {
		if e.up[k].climb == n.id || e.up[k].next == n.id {
			e.checkClimb(n, k)
		}
		if e.up[k].peer != n.id || e.up[k].pending {
			continue
		}
		st := n.state[k]
		if !st.Fed || slices.Contains(st.Path, e.self) || len(st.Path)+1 >= e.cfg.MaxDepth {
			e.dropUpstream(k) // lost its supply, or a loop formed
			continue
		}
		e.markDirty() // our path changed with it
	}
	e.improve()
}

func (e *Engine) onSubscribe(n *neighbour, k int) {
	p, fed := e.path(k)
	if e.children[k].has(n.id) {
		e.send(n.id, &Message{Type: TAccept, Stripe: uint8(k)})
		return
	}
	// While our own subscription for k is pending our path is about to
	// change: taking children then could close a cycle.
	if fed && e.slotsFor(k) == 0 && k == e.homeK && extender(n, k) {
		e.evictLeaf(k) // SplitStream's push-down: a peer that can extend the tree beats a leaf
	}
	if !fed || e.up[k].pending || e.slotsFor(k) == 0 || slices.Contains(p, n.hash) || e.up[k].peer == n.id {
		e.send(n.id, &Message{Type: TReject, Stripe: uint8(k)})
		return
	}
	e.children[k].add(n.id)
	e.nchild++
	e.send(n.id, &Message{Type: TAccept, Stripe: uint8(k)})
	e.catchUp(n.id, k)
	e.markDirty()
}

func (e *Engine) onAccept(n *neighbour, k int) {
	u := &e.up[k]
	if u.climb == n.id {
		e.climbed(n, k)
		return
	}
	if u.peer != n.id || !u.pending {
		e.send(n.id, &Message{Type: TUnsubscribe, Stripe: uint8(k)}) // too late: undo
		return
	}
	if u.stop != nil {
		u.stop()
	}
	u.pending, u.root, u.late, u.stop = false, false, 0, nil
	e.holdUpstream(k)
	n.failed = 0
	e.markDirty()
}

// dropUpstream leaves stripe k's upstream and looks for another at once.
// The upstream is always told (if the link still exists), or it would keep
// a slot for a child that left.
func (e *Engine) dropUpstream(k int) {
	u := &e.up[k]
	if n := e.nbrs[u.next]; n != nil {
		e.switchTo(n, k) // a climb it accepted takes over at once
		return
	}
	e.stopClimb(k)
	if u.peer != "" && e.nbrs[u.peer] != nil {
		e.send(u.peer, &Message{Type: TUnsubscribe, Stripe: uint8(k)})
	}
	if u.stop != nil {
		u.stop()
	}
	*u = upstream{}
	e.markDirty()
	e.choose(k)
}

// pause keeps a neighbour out of the upstream choice for rejectPause plus
// up to as much again (jittered: two peers refusing each other must not
// retry in lockstep).
func (e *Engine) pause(n *neighbour) {
	n.retryAt = e.clk.Now() + rejectPause + time.Duration(e.rng.Int64N(int64(rejectPause)))
}

// penalize keeps a failed upstream out of the choice for a while, doubling.
func (e *Engine) penalize(n *neighbour) {
	n.failed++
	e.stats.Dropped++
	d := min(retryMax, retryBase<<min(n.failed-1, 10))
	n.retryAt = e.clk.Now() + d
}

// candidate for stripe k: the shallowest usable neighbour; among those of
// one depth, one that feeds this peer no other stripe yet (each link is one
// flow with its share of the sender's uplink, so two stripes on one link
// get half each when that uplink is busy, and a neighbour that leaves takes
// fewer stripes with it), then the one with most free slots.
func (e *Engine) candidate(k int, rootBelow uint32, depth int) *neighbour {
	var best *neighbour
	bestScore := -1 << 30
	now := e.clk.Now()
	for _, n := range e.neighbours() {
		if e.unusable(n, k, rootBelow, depth, now) != CauseNone {
			continue
		}
		st := n.state[k]
		score := -100*len(st.Path) + int(min(st.Slots, 20)) - 10*n.failed + e.rng.IntN(3) - 20*e.feeds(n.id)
		if score > bestScore {
			best, bestScore = n, score
		}
	}
	return best
}

// feeds counts the stripes id is this peer's upstream of (or asked to be).
func (e *Engine) feeds(id PeerID) int {
	c := 0
	for k := range e.up {
		if e.up[k].peer == id {
			c++
		}
	}
	return c
}

// A root with a subtree joins only trees whose root sorts below its own, so
// that two roots never join each other's trees at once. In a small swarm
// that leaves spare roots: two trees whose lower root never meets a slot of
// the other. So after a random wait (mergeWait + up to mergeJitter, long
// beside a STATE's trip down a tree) such a root may also join a tree whose
// root sorts above it, next to that root (mergeDepth: the candidate is the
// root or its child, so its own subtree does not sink deep). Should two
// roots still do so at once, each sees itself in the other's path in the
// next STATE and drops it (onState): a loop lasts a STATE's trip, and the
// deadline completion covers its stripe meanwhile.
const (
	anyRoot     = ^uint32(0)
	mergeWait   = 5 * time.Second
	mergeJitter = 10 * time.Second
	mergeDepth  = 3 // candidates with a path of at most one hop
)

// mayMerge reports that root stripe k has waited long enough to join a tree
// whose root sorts above this peer; the first call starts the wait.
func (e *Engine) mayMerge(k int) bool {
	u := &e.up[k]
	now := e.clk.Now()
	if u.mergeAt == 0 {
		u.mergeAt = now + mergeWait + time.Duration(e.rng.Int64N(int64(mergeJitter)))
		e.clk.AfterFunc(u.mergeAt-now, e.improve)
		return false
	}
	return now >= u.mergeAt
}

// treeRoot is the hash of the root of n's tree for stripe k.
func treeRoot(n *neighbour, k int) uint32 {
	if p := n.state[k].Path; len(p) > 0 {
		return p[0]
	}
	return n.hash
}

// choose finds stripe k an upstream, or makes this peer its root.
func (e *Engine) choose(k int) {
	if e.cfg.CDNOnly || e.up[k].peer != "" {
		return
	}
	limit := anyRoot
	if e.up[k].root && len(e.children[k]) > 0 {
		limit = e.self // a root with a subtree only joins a tree whose root sorts below it: no cycles
	}
	n := e.candidate(k, limit, e.cfg.MaxDepth)
	if n == nil && limit != anyRoot && e.mayMerge(k) {
		n = e.candidate(k, anyRoot, mergeDepth)
	}
	if n == nil {
		if !e.up[k].root && e.inGrace() {
			return
		}
		if !e.up[k].root {
			e.up[k].root = true
			e.markDirty()
		}
		return
	}
	u := &e.up[k]
	u.peer, u.pending = n.id, true
	e.send(n.id, &Message{Type: TSubscribe, Stripe: uint8(k)})
	u.stop = e.clk.AfterFunc(subscribeTimeout, func() {
		if e.up[k].peer == n.id && e.up[k].pending {
			e.penalize(n)
			root := e.up[k].root
			e.up[k] = upstream{root: root}
			e.choose(k)
		}
	})
}

// inGrace reports that links may still be opening: roots wait (RootGrace).
func (e *Engine) inGrace() bool {
	if e.cfg.RootGrace <= 0 {
		return false
	}
	if !e.started {
		return true // OnSegment will choose again
	}
	now := e.clk.Now()
	if now >= e.graceEnd {
		return false
	}
	if !e.graceSet {
		e.graceSet = true
		e.clk.AfterFunc(e.graceEnd-now, e.improve)
	}
	return true
}

// improve gives every unfed stripe a chance, and every root a chance to
// merge into a better tree.
func (e *Engine) improve() {
	for k := range e.up {
		if e.up[k].peer == "" {
			e.choose(k)
		} else {
			e.climb(k)
		}
	}
}

// starving reports that no neighbour offers a slot for stripe k (its homes
// nearby are full or missing): then spare capacity spills over to it.
func (e *Engine) starving(k int) bool {
	for _, n := range e.neighbours() {
		if k < len(n.state) && n.state[k].Slots > 0 && n.state[k].Fed {
			return false
		}
	}
	return true
}

// extender reports that n can take children in stripe k (it advertises slots).
func extender(n *neighbour, k int) bool { return k < len(n.state) && n.state[k].Slots > 0 }

// forwarder reports that n has or takes children in stripe k: not a leaf.
func forwarder(n *neighbour, k int) bool {
	return n != nil && (extender(n, k) || k < len(n.state) && n.state[k].Kids)
}

// leafChild is a child of stripe k that has and takes no children in it.
func (e *Engine) leafChild(k int) *neighbour {
	for _, id := range e.children[k] {
		if c := e.nbrs[id]; c != nil && !forwarder(c, k) {
			return c
		}
	}
	return nil
}

// evictLeaf drops a leaf child of stripe k; it re-attaches elsewhere (often
// under the extender that took its place).
func (e *Engine) evictLeaf(k int) {
	c := e.leafChild(k)
	if c == nil {
		return
	}
	e.children[k].del(c.id)
	e.nchild--
	e.send(c.id, &Message{Type: TReject, Stripe: uint8(k)})
	e.markDirty()
}

// suspectFor is how long the subtree of a lost neighbour is not trusted:
// its members' "fed" may be stale (they lost their feed with it), and
// subscribing among them would make a tree with no root.
const suspectFor = 4 * time.Second

// forget marks a lost neighbour's subtree suspect for a while.
func (e *Engine) forget(hash uint32) {
	if e.gone == nil {
		e.gone = map[uint32]time.Duration{}
	}
	now := e.clk.Now()
	for h, until := range e.gone {
		if until <= now {
			delete(e.gone, h)
		}
	}
	e.gone[hash] = now + suspectFor
}

// orphaned reports that a path runs through a neighbour lost lately.
func (e *Engine) orphaned(path []uint32) bool {
	if len(e.gone) == 0 {
		return false
	}
	now := e.clk.Now()
	for _, h := range path {
		if until, ok := e.gone[h]; ok && until > now {
			return true
		}
	}
	return false
}
