package transport

import (
	"time"

	"github.com/pion/webrtc/v4"
)

// Candidates can overtake their offer: a signaling path need not keep a
// peer's signals in order (a relay through several tracker nodes, or a
// host that hands each signal to its own goroutine). A candidate for a link
// this side has not heard of yet was dropped, and a relay-only set-up —
// which has one candidate per side — then never opened (about 1 in 5 under
// the race detector). Such candidates are kept, a few per peer for a
// set-up's time, and given to the link when its offer comes.

const (
	maxEarlyPeers = 64 // peers with candidates waiting for their offer
	maxEarlyEach  = 16 // candidates kept per peer
)

type early struct {
	conn  uint64
	until time.Time
	cands []webrtc.ICECandidateInit
}

// keepEarly holds a candidate for a link from peer (attempt conn) not seen
// yet. Called with n.mu held.
func (n *Network) keepEarly(from string, conn uint64, c webrtc.ICECandidateInit) {
	now := time.Now()
	for id, e := range n.early {
		if now.After(e.until) {
			delete(n.early, id)
		}
	}
	e := n.early[from]
	if e == nil || e.conn != conn {
		if e == nil && len(n.early) >= maxEarlyPeers {
			return
		}
		e = &early{conn: conn, until: now.Add(n.cfg.SetupTimeout)}
		n.early[from] = e
	}
	if len(e.cands) < maxEarlyEach {
		e.cands = append(e.cands, c)
	}
}

// takeEarly returns and forgets the candidates kept for attempt conn of
// peer from. Called with n.mu held.
func (n *Network) takeEarly(from string, conn uint64) []webrtc.ICECandidateInit {
	e := n.early[from]
	if e == nil || e.conn != conn {
		return nil
	}
	delete(n.early, from)
	return e.cands
}
