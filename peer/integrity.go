package peer

import (
	"github.com/p2phls/p2phls/engine"
	"github.com/p2phls/p2phls/hls"
	"github.com/p2phls/p2phls/tracker/client"
)

// The host's side of integrity: the tracker says whether the swarm has
// digests, delivers them (by content key), and hears about peers caught
// sending bad data.

// maxPending bounds digests kept for segments this node has not listed yet.
const maxPending = 32

func (n *Node) integrity(on bool) {
	n.r.post(func() { n.eng.SetIntegrity(on) })
	if on {
		n.log.Info("swarm has digests: every piece from a peer is checked")
	}
}

// digests hands a segment's digests to the engine, or keeps them until the
// playlist shows the segment.
func (n *Node) digests(d client.Digests) {
	if d.Stripes != n.stripes() {
		n.log.Warn("digests cut for another stripe count: ignored", "theirs", d.Stripes, "ours", n.stripes())
		return
	}
	n.mu.Lock()
	var id string
	for _, e := range n.win.entries {
		if hls.ContentKey(e.item.Segment) == d.Segment {
			id = e.item.ID
		}
	}
	if id == "" {
		if n.pending == nil {
			n.pending = map[string]client.Digests{}
		}
		if len(n.pending) >= maxPending {
			clear(n.pending) // they were for segments this node never saw
		}
		n.pending[d.Segment] = d
	}
	n.mu.Unlock()
	if id != "" {
		n.applyDigests(id, d)
	}
}

// pendingDigests returns and forgets the digests kept for a segment. Under n.mu.
func (n *Node) pendingDigests(it hls.Item) (client.Digests, bool) {
	k := hls.ContentKey(it.Segment)
	d, ok := n.pending[k]
	delete(n.pending, k)
	return d, ok
}

func (n *Node) applyDigests(id string, d client.Digests) {
	n.r.post(func() {
		if err := n.eng.OnDigests(id, d.Size, d.Sums); err != nil {
			n.log.Warn("digests refused", "segment", id, "err", err)
		}
	})
}

func (n *Node) stripes() int {
	if n.cfg.Stripes > 0 {
		return n.cfg.Stripes
	}
	return engine.DefaultStripes
}

// Misbehaved: a peer sent bytes that do not match the digests. Drop and ban
// it here, and report it to the tracker (which bans it for all).
func (t *engineTransport) Misbehaved(id engine.PeerID, err error) {
	n := (*Node)(t)
	n.dropPeer(string(id), err)
	if n.tc != nil {
		if rerr := n.tc.Report(string(id), err.Error()); rerr != nil {
			n.log.Warn("report to the tracker failed", "peer", id, "err", rerr)
		}
	}
}
