package engine

import "time"

// A killed peer says no goodbye, and its host may take seconds to notice
// (ICE consent, a DataChannel time-out): meanwhile its whole subtree waits
// for the deadline. So while a segment is in play, a peer whose upstream in
// a stripe it still lacks has said nothing for upSilence pings it; if the
// upstream still says nothing pongWait later, the stripe's missing bytes of
// the segments in play come from the CDN at once and go down the subtree as
// they come. An upstream that is only starved (its own upstream died)
// answers, so the peer nearest the failure repairs for its subtree. The
// upstream is not dropped for it: its host's notice, or lateDrops deadlines
// missed in a row, replace it (dropping it at once cost 0.018 offload at
// 1,000 mixed viewers: a busy upstream's answer can queue behind its media).
const (
	upSilence  = 600 * time.Millisecond // no message from the upstream for this long: ping it
	pongWait   = 600 * time.Millisecond // no answer at all this long after the ping: complete from the CDN
	checkEvery = 200 * time.Millisecond // how often a segment in play checks its upstreams
)

// watchUpstreams checks segment s's upstreams every checkEvery from
// upSilence after it appeared until it is ready or gone.
func (e *Engine) watchUpstreams(s *segment) {
	if e.cfg.CDNOnly {
		return
	}
	var check func()
	check = func() {
		if s.ready || e.segs[s.info.ID] != s {
			return
		}
		e.checkUpstreams(s)
		e.clk.AfterFunc(checkEvery, check)
	}
	e.clk.AfterFunc(max(0, s.info.Available+upSilence-e.clk.Now()), check)
}

// checkUpstreams pings the silent upstreams of the stripes s lacks, and
// completes from the CDN the stripes of those that did not answer.
func (e *Engine) checkUpstreams(s *segment) {
	now := e.clk.Now()
	for k := range s.stripes {
		u := e.up[k]
		if u.peer == "" || u.pending || s.complete(k) || s.stripes[k].cdn {
			continue
		}
		n := e.nbrs[u.peer]
		switch {
		case n == nil || now-n.heard < upSilence:
		case n.pingAt == 0 || n.pingAt < n.heard:
			n.pingAt = now
			e.send(n.id, &Message{Type: TPing, Nonce: uint32(now / time.Millisecond)})
		case now-n.pingAt >= pongWait:
			e.upstreamSilent(n)
		}
	}
}

// upstreamSilent completes from the CDN what n, silent through a ping,
// owes of the segments in play; a later silence is pinged again.
func (e *Engine) upstreamSilent(n *neighbour) {
	n.pingAt = 0
	for k := range e.up {
		if e.up[k].peer != n.id || e.up[k].pending {
			continue
		}
		for _, id := range e.order {
			if s := e.segs[id]; s != nil && s.known && !s.ready && s.size >= 0 && !s.complete(k) && !s.stripes[k].cdn {
				e.stats.SilentUpstreams++
				e.completeStripe(s, k)
			}
		}
	}
}
