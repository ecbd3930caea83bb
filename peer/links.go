package peer

import (
	"encoding/json"
	"time"

	"github.com/p2phls/p2phls/engine"
	"github.com/p2phls/p2phls/tracker/client"
	"github.com/p2phls/p2phls/transport"
)

// startP2P builds the tracker client and the WebRTC network.
func (n *Node) startP2P() error {
	n.tc = client.New(client.Config{URL: n.cfg.Tracker, Swarm: n.cfg.Swarm, Token: n.cfg.Token,
		UploadCap: n.cfg.MaxUpload, Logger: n.log, Playlist: n.cfg.Playlist,
		Integrity: n.integrity, Digests: n.digests,
		Joined:  n.joined,
		Peers:   n.connectSome,
		Signal:  n.signal,
		StatsFn: n.trackerStats})
	net, err := transport.New(transport.Config{ICEServers: n.cfg.ICEServers, RelayOnly: n.cfg.RelayOnly,
		Loopback: n.cfg.Loopback, UDP: n.cfg.UDP, MaxLinks: n.cfg.MaxLinks, Logger: n.log, Accept: n.allowed,
		Upload: n.cfg.MaxUpload}, // an explicit cap paces the sends, pushes that go on down a tree first
		signaler{n.tc}, transport.Handler{Open: n.linkOpen, Message: n.linkMessage, Closed: n.linkClosed})
	if err != nil {
		return err
	}
	n.net = net
	return nil
}

type signaler struct{ c *client.Client }

func (s signaler) Signal(to string, sig transport.Signal) error { return s.c.Signal(to, sig) }

func (n *Node) joined(self string, peers []string) {
	n.net.SetSelf(self)
	n.connectSome(peers)
}

// connectSome opens links to peers until this node has as many as it aims
// at (Neighbours, more while a stripe wants them: morePeers).
func (n *Node) connectSome(peers []string) {
	target := int(n.links.Load())
	for _, p := range peers {
		if n.net.Count() >= target {
			return
		}
		if !n.net.Has(p) && n.allowed(p) {
			if err := n.net.Connect(p); err != nil {
				n.log.Debug("connect", "peer", p, "err", err)
			}
		}
	}
}

func (n *Node) signal(from string, data json.RawMessage) {
	if err := n.net.OnSignal(from, data); err != nil {
		n.log.Warn("bad signal", "from", from, "err", err)
	}
}

func (n *Node) linkOpen(id string) {
	n.r.post(func() { n.eng.AddNeighbour(engine.PeerID(id)) })
}

func (n *Node) linkClosed(id string) {
	n.r.post(func() { n.eng.RemoveNeighbour(engine.PeerID(id)) })
}

// linkMessage decodes on the link's goroutine; a peer breaking the wire
// rules is dropped (logged), never the process.
func (n *Node) linkMessage(id string, b []byte) {
	m, err := engine.Decode(b)
	if err != nil {
		n.dropPeer(id, err)
		return
	}
	n.r.post(func() {
		if err := n.eng.OnMessage(engine.PeerID(id), &m); err != nil {
			n.dropPeer(id, err)
		}
	})
}

// banTime keeps a peer that broke the rules away.
const banTime = 10 * time.Minute

func (n *Node) dropPeer(id string, err error) {
	n.log.Warn("peer dropped and banned: broke the rules", "peer", id, "err", err, "for", banTime)
	n.mu.Lock()
	if n.banned == nil {
		n.banned = map[string]time.Time{}
	}
	n.banned[id] = time.Now().Add(banTime)
	n.mu.Unlock()
	n.net.Disconnect(id)
}

// allowed reports that id is not banned.
func (n *Node) allowed(id string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	until, ok := n.banned[id]
	if ok && time.Now().After(until) {
		delete(n.banned, id)
		return true
	}
	return !ok
}

// morePeers asks the tracker for more peers (every 3 s) while this node has
// fewer links than it aims at: Neighbours, or two more than it has, up to
// MaxLinks, while a stripe it takes from the CDN could come from a new
// neighbour (engine.WantsPeers; the tracker ranks peers with spare upload
// first).
func (n *Node) morePeers() {
	var wants bool
	n.r.call(func() { wants = n.eng.WantsPeers() })
	count := n.net.Count()
	target := linkTarget(n.cfg.Neighbours, n.cfg.MaxLinks, count, wants)
	n.links.Store(int32(target))
	if count < target {
		_ = n.tc.AskPeers(2 * target)
	}
}

// linkTarget is how many links a node with count of them aims at.
func linkTarget(neighbours, maxLinks, count int, wants bool) int {
	if !wants {
		return neighbours
	}
	return min(maxLinks, max(neighbours, count+2))
}

func (n *Node) trackerStats() client.Stats {
	s := n.Stats()
	return client.Stats{BytesCDN: s.BytesCDN, BytesP2P: s.BytesP2P, BytesUploaded: s.BytesUploaded, Stalls: s.Stalls}
}
