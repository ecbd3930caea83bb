package engine

import (
	"slices"
	"time"
)

// Cause says why a neighbour cannot be this peer's upstream in a stripe, or,
// for a root stripe, what kept the closest of its neighbours out: the
// stripe is fed from the CDN for that reason (Stats, the simulator's report).
type Cause uint8

// Causes, from the farthest from usable to the closest.
const (
	CauseNone        Cause = iota // usable (or not a root stripe)
	CauseNoNeighbour              // no neighbour at all
	CauseUnknown                  // consume-only, no STATE yet, or waiting out a failure (retry with backoff)
	CauseUnfed                    // not fed in that stripe itself
	CauseFull                     // no free slot in that stripe
	CauseLoop                     // this peer is on its path
	CauseDepth                    // its tree is at the depth bound
	CauseOrphaned                 // its path runs through a peer that just left
	CauseOrder                    // its tree's root sorts above this root's own (no cycles between roots)
	CauseWaiting                  // a neighbour could feed it: the next choice (improve) takes it
)

var causeNames = [...]string{"none", "no_neighbour", "unknown", "unfed", "full", "loop", "depth", "orphaned", "order", "waiting"}

var causeTexts = [...]string{"fed by a peer", "no neighbour", "no STATE yet, consume-only or waiting out a failure",
	"neighbours not fed themselves", "every fed neighbour full in that stripe", "only its own subtree",
	"trees at the depth bound", "paths through a peer that left", "trees a root may not join yet", "a candidate not yet taken"}

// String is the cause's name in reports ("full", "depth", ...).
func (c Cause) String() string {
	if int(c) < len(causeNames) {
		return causeNames[c]
	}
	return "cause?"
}

// Text says the cause in words.
func (c Cause) Text() string {
	if int(c) < len(causeTexts) {
		return causeTexts[c]
	}
	return c.String()
}

// unusable is why n cannot feed stripe k to this peer, under a tree-root
// bound and a depth bound (candidate); CauseNone: it can.
func (e *Engine) unusable(n *neighbour, k int, rootBelow uint32, depth int, now time.Duration) Cause {
	if k >= len(n.state) || n.consume || now < n.retryAt {
		return CauseUnknown
	}
	st := n.state[k]
	switch {
	case !st.Fed:
		return CauseUnfed
	case st.Slots == 0 && !(st.Swap && e.slotsFor(k) > 0):
		return CauseFull
	case slices.Contains(st.Path, e.self):
		return CauseLoop
	case len(st.Path)+1 >= depth:
		return CauseDepth
	case e.orphaned(st.Path):
		return CauseOrphaned
	case treeRoot(n, k) >= rootBelow:
		return CauseOrder
	}
	return CauseNone
}

// RootCause is why stripe k comes from the CDN: CauseNone if it does not
// (an upstream feeds it, or this peer is CDN-only), else the cause that kept
// the closest neighbour out, judged as choose judges (the merge after a
// wait aside).
func (e *Engine) RootCause(k int) Cause {
	if k < 0 || k >= len(e.up) || !e.up[k].root || e.up[k].peer != "" || e.cfg.CDNOnly {
		return CauseNone
	}
	limit := anyRoot
	if len(e.children[k]) > 0 {
		limit = e.self
	}
	now := e.clk.Now()
	why := CauseNoNeighbour
	for _, n := range e.neighbours() {
		c := e.unusable(n, k, limit, e.cfg.MaxDepth, now)
		if c == CauseNone {
			return CauseWaiting
		}
		why = max(why, c)
	}
	return why
}

// WantsPeers reports that a new neighbour could feed a stripe this peer now
// takes from the CDN: its neighbours are full, unfed or too deep there, or it
// has none. The host asks the tracker for more (up to its link cap).
func (e *Engine) WantsPeers() bool {
	for k := range e.up {
		switch e.RootCause(k) {
		case CauseNoNeighbour, CauseUnfed, CauseFull, CauseDepth:
			return true
		}
	}
	return false
}
