package engine

import (
	"fmt"
	"slices"
	"time"
)

// onPiece takes stripe data from a neighbour (pushed or requested).
func (e *Engine) onPiece(n *neighbour, m *Message) error {
	s := e.seg(m.Seg)
	if !e.setSize(s, int64(m.Size)) {
		return fmt.Errorf("%w: segment %s size %d, known as %d", ErrWire, m.Seg, m.Size, s.size)
	}
	k := int(m.Stripe)
	if int64(m.Offset)+int64(len(m.Data)) > s.stripeLen(k) {
		return fmt.Errorf("%w: piece past the end of stripe %d", ErrWire, k)
	}
	e.addData(s, k, int64(m.Offset), m.Data, n)
	return nil
}

// addData adds bytes at off of stripe k (from a peer, or the CDN when n is
// nil), forwards what is new to the stripe's children and delivers the
// segment once complete.
func (e *Engine) addData(s *segment, k int, off int64, b []byte, n *neighbour) {
	if n != nil {
		e.stats.BytesP2P += int64(len(b))
	}
	st := &s.stripes[k]
	if n == nil && st.got > st.ok { // the CDN replaces bytes not checked yet
		e.truncate(s, k)
	}
	if off > st.got || s.ready {
		e.stats.BytesWasted += int64(len(b)) // out of order or late: the deadline fetch covers it
		return
	}
	skip := st.got - off
	if skip >= int64(len(b)) {
		e.stats.BytesWasted += int64(len(b))
		return
	}
	e.stats.BytesWasted += skip
	fresh := b[skip:]
	st.pieces = append(st.pieces, fresh)
	from := st.got
	st.got += int64(len(fresh))
	if e.integrity && n != nil {
		if !slices.Contains(st.from, n.id) {
			st.from = append(st.from, n.id)
		}
		e.verify(s, k)
	} else {
		st.ok = st.got
		e.forward(s, k, from, fresh)
	}
	if s.complete(k) {
		e.noteDone(s, k, n)
		if n != nil && (e.up[k].peer == n.id || e.up[k].next == n.id) {
			e.up[k].late = 0 // the upstream delivered in time
		} else {
			e.upstreamLate(k) // completed by the CDN or a pull: the upstream missed it
		}
		e.climbDone(k)
		e.checkReady(s)
	}
}

// forward pushes new bytes of stripe k to its children, cut through. A
// push to a child that forwards the stripe in turn is marked Forward: an
// uplink that sends those first puts a level of a tree on the wire in a
// piece's time at the whole upload rate instead of its share, so a subtree
// waits less at each level (1,000 mixed viewers, session 26).
func (e *Engine) forward(s *segment, k int, off int64, b []byte) {
	if len(e.children[k]) == 0 {
		return
	}
	piece := e.piece(s)
	for len(b) > 0 {
		c := min(len(b), piece)
		m := Message{Type: TPiece, Seg: s.info.ID, Size: uint32(s.size), Stripe: uint8(k), Offset: uint32(off), Data: b[:c]}
		for _, id := range e.children[k] {
			m.Forward = forwarder(e.nbrs[id], k)
			e.send(id, &m)
		}
		b, off = b[c:], off+int64(c)
	}
}

// catchUpSegments is how many of the newest segments a new child is sent.
const catchUpSegments = 1

// catchUp sends a new child what this peer already holds of stripe k of the
// newest segment. Only the newest: the catch-up goes on the child's link
// ahead of its pushes, and that link has only its share of this peer's
// uplink, so an older segment, due sooner, would come too late for the
// child's deadline and hold up the newer ones behind it (1,000 mixed
// viewers, session 25: offload +0.006 over seeds 1–7, late segments 9 → 7 %).
func (e *Engine) catchUp(id PeerID, k int) {
	n := e.nbrs[id]
	for i := max(0, len(e.order)-catchUpSegments); i < len(e.order); i++ {
		s := e.segs[e.order[i]]
		if s == nil || s.size < 0 || n != nil && s.have(n)&(1<<k) != 0 {
			continue // the child said it holds this one (HAVE)
		}
		var off int64
		piece, st := e.piece(s), &s.stripes[k]
		if st.ok == 0 || !e.spend(st.ok) {
			continue // nothing yet, or no spare upload: the child's deadline covers it
		}
		for _, p := range st.pieces {
			if off >= st.ok {
				break
			}
			for q := p[:min(int64(len(p)), st.ok-off)]; len(q) > 0; {
				c := min(len(q), piece)
				e.send(id, &Message{Type: TPiece, Seg: s.info.ID, Size: uint32(s.size), Stripe: uint8(k), Offset: uint32(off), Data: q[:c]})
				q, off = q[c:], off+int64(c)
			}
		}
	}
}

func (e *Engine) checkReady(s *segment) {
	if s.ready || !s.known || s.size < 0 {
		return
	}
	var all [][]byte
	for k := range s.stripes {
		if !s.complete(k) {
			return
		}
		all = append(all, s.stripes[k].pieces...)
	}
	s.ready = true
	if s.stop != nil {
		s.stop()
	}
	if s.repair != nil {
		s.repair()
	}
	e.stats.Segments++
	if s.info.Seq == e.firstSeq && !e.playing {
		e.playAt = min(e.playAt, e.clk.Now()) // the player can start now: later segments are due on its schedule
	}
	if s.info.Duration > 0 {
		e.measure(float64(s.size) / s.info.Duration.Seconds())
	}
	have := Message{Type: THave, Seg: s.info.ID, Size: uint32(s.size), Have: 1<<e.cfg.Stripes - 1}
	for _, n := range e.neighbours() {
		id := n.id
		if s.have(n) == 0 { // a neighbour that has it needs no HAVE
			e.send(id, &have)
		}
	}
	e.tellDone(s)
	e.pl.Ready(s.info, all)
}

// onRequest serves a pull for bytes this peer holds.
func (e *Engine) onRequest(n *neighbour, m *Message) {
	s := e.segs[m.Seg]
	if s == nil || e.cfg.ConsumeOnly || s.size < 0 {
		return
	}
	k := int(m.Stripe)
	end := min(int64(m.Offset)+int64(m.Length), s.stripes[k].ok)
	if end <= int64(m.Offset) || !e.spend(end-int64(m.Offset)) {
		return // nothing to send, or no spare upload: the asker's deadline covers it
	}
	var pos int64
	piece := int64(e.piece(s))
	for _, p := range s.stripes[k].pieces {
		a, z := max(pos, int64(m.Offset)), min(pos+int64(len(p)), end)
		for a < z {
			c := min(z-a, piece)
			e.send(n.id, &Message{Type: TPiece, Seg: s.info.ID, Size: uint32(s.size), Stripe: uint8(k), Offset: uint32(a), Data: p[a-pos : a-pos+c]})
			a += c
		}
		pos += int64(len(p))
	}
}

// pullRepair asks a neighbour that has the segment for stripes that have not
// started by half-way to the deadline (the seed's hasChunk/getPiece). With
// LeafPull it asks again every pullRetry while a stripe is not coming in
// (a holder with no spare upload says nothing).
func (e *Engine) pullRepair(s *segment) {
	s.repair = nil
	if s.ready || s.size < 0 {
		return
	}
	again := false
	for k := range s.stripes {
		st := &s.stripes[k]
		if s.complete(k) || st.cdn || st.got > 0 && e.up[k].peer != "" {
			continue
		}
		again = true
		if st.asked && st.got > st.askedAt {
			st.askedAt = st.got // the pull is coming in
			continue
		}
		if n := e.holder(s, k, 0); n != nil {
			e.pull(n, s, k)
		}
	}
	if again && e.cfg.LeafPull {
		s.repair = e.clk.AfterFunc(pullRetry, func() { e.pullRepair(s) })
	}
}

// pullRetry is how long a pull may bring nothing before another holder is
// asked (LeafPull).
const pullRetry = 400 * time.Millisecond

// pull asks n for the rest of stripe k of s.
func (e *Engine) pull(n *neighbour, s *segment, k int) {
	st := &s.stripes[k]
	st.asked, st.askedAt = true, st.got
	e.send(n.id, &Message{Type: TRequest, Seg: s.info.ID, Stripe: uint8(k), Offset: uint32(st.got), Length: uint32(s.stripeLen(k) - st.got)})
}

// leafPull: a HAVE from n lets a leaf root ask n at once for the stripes it
// roots, if n uploads at least the stream's rate (a slower peer has little
// spare upload to give).
func (e *Engine) leafPull(n *neighbour, s *segment) {
	if !e.cfg.LeafPull || n.consume || float64(n.upload) < e.bitrate || !s.known || s.ready || s.size < 0 {
		return
	}
	for k := range s.stripes {
		st := &s.stripes[k]
		if e.leafRoot(k) && !st.asked && !st.cdn && !s.complete(k) && s.have(n)&(1<<k) != 0 {
			e.stats.LeafPulls++
			e.pull(n, s, k)
		}
	}
}

// pullHeld: a segment that appears after neighbours said they hold it (a
// peer whose playlist is behind theirs) has its leaf-rooted stripes asked
// for at once, of one of those holders each, rather than at the repair.
func (e *Engine) pullHeld(s *segment) {
	if !e.cfg.LeafPull || s.size < 0 || s.ready {
		return
	}
	for k := range s.stripes {
		st := &s.stripes[k]
		if !e.leafRoot(k) || st.asked || st.cdn || s.complete(k) {
			continue
		}
		if n := e.holder(s, k, int64(e.bitrate)); n != nil {
			e.stats.LeafPulls++
			e.pull(n, s, k)
		}
	}
}

// leafRoot reports that this peer roots stripe k and feeds no child in it.
func (e *Engine) leafRoot(k int) bool { return e.up[k].root && len(e.children[k]) == 0 }

// holder is a neighbour that said it holds stripe k of segment s and
// uploads at least least bytes/s, drawn at random weighted by its upload
// (HELLO): pulls spread over the holders instead of all landing on the first
// in id order, and more on those with more spare upload.
func (e *Engine) holder(s *segment, k int, least int64) *neighbour {
	var pick *neighbour
	var seen int64
	for _, n := range e.neighbours() {
		if s.have(n)&(1<<k) != 0 && !n.consume && n.upload >= least {
			w := max(1, n.upload>>10)
			seen += w
			if e.rng.Int64N(seen) < w {
				pick = n
			}
		}
	}
	return pick
}
