package engine

import "time"

// Via says how a stripe of a segment came (StripeWatcher).
type Via uint8

// How a stripe came.
const (
	ViaPush        Via = iota // from this peer's upstream in the stripe's tree
	ViaPeer                   // from another neighbour: a pull, or a former upstream
	ViaCDNRoot                // from the CDN: this peer roots the stripe (or did when it asked)
	ViaCDNDeadline            // from the CDN: the completion at the deadline
	ViaCDNStart               // from the CDN: the fast start
	NumVia                    // how many Via values there are
)

var viaNames = [NumVia]string{"push", "peer", "cdn_root", "cdn_deadline", "cdn_start"}

func (v Via) String() string {
	if v < NumVia {
		return viaNames[v]
	}
	return "unknown"
}

// StripeWatcher is implemented by a Player that wants to know how and when
// each stripe of a segment came (the simulator's delay breakdown). For a
// segment about to be handed to Ready, StripeDone runs once per stripe:
// depth is the peer's depth in the stripe's tree when it came by push (1 =
// a child of a root), else 0; at is the engine clock time it was complete.
type StripeWatcher interface {
	StripeDone(seg SegmentInfo, k int, via Via, depth int, at time.Duration)
}

// noteDone records how stripe k of s was completed by bytes from n (nil:
// the CDN), for a StripeWatcher.
func (e *Engine) noteDone(s *segment, k int, n *neighbour) {
	if e.watch == nil {
		return
	}
	st := &s.stripes[k]
	st.doneAt, st.depth = e.clk.Now(), 0
	switch {
	case n != nil && e.up[k].peer == n.id:
		st.via = ViaPush
		if k < len(n.state) {
			st.depth = uint8(min(255, len(n.state[k].Path)+1))
		}
	case n != nil:
		st.via = ViaPeer
	case s.info.Seq == e.firstSeq:
		st.via = ViaCDNStart
	case s.late:
		st.via = ViaCDNDeadline
	default:
		st.via = ViaCDNRoot
	}
}

// tellDone hands a ready segment's stripe records to the StripeWatcher.
func (e *Engine) tellDone(s *segment) {
	if e.watch == nil {
		return
	}
	for k := range s.stripes {
		st := &s.stripes[k]
		e.watch.StripeDone(s.info, k, st.via, int(st.depth), st.doneAt)
	}
}
