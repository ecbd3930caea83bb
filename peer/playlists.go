package peer

import (
	"errors"

	"github.com/p2phls/p2phls/engine"
	"github.com/p2phls/p2phls/hls"
)

// Playlist sharing (Config.SharePlaylists). A playlist from an upstream is
// checked by the follower (hls.Follower.UpdateShared); its text never
// reaches a player: native players get playlists rendered here, and the
// browser's hls.js gets the last one fetched from the CDN (OriginPlaylist).

// OnPlaylist is the engine's delivery of a playlist from an upstream; it is
// queued for the follower, or dropped if the follower is behind.
func (p *enginePlayer) OnPlaylist(from engine.PeerID, _ uint32, raw []byte) {
	n := (*Node)(p)
	select {
	case n.shared <- hls.Shared{From: string(from), Raw: append([]byte(nil), raw...)}:
	default:
	}
}

// onShared: a playlist that breaks the rules costs its sender the link; an
// accepted one goes on down the tree.
func (n *Node) onShared(s hls.Shared, m *hls.Media, err error) {
	switch {
	case errors.Is(err, hls.ErrSharedRefused):
		n.dropPeer(s.From, err)
	case err == nil:
		n.mu.Lock()
		n.playlists++ // its segments are not the first playlist's (behind live by design)
		n.mu.Unlock()
		n.passOn(m, s.Raw, false)
	}
}

// passOn shares a playlist newer than the last one passed on. A CDN
// playlist older than that is an encoder restart (or a lagging CDN node):
// the count starts again from it.
func (n *Node) passOn(m *hls.Media, raw []byte, cdn bool) {
	if !n.cfg.SharePlaylists || len(m.Segments) == 0 {
		return
	}
	newest := m.Segments[len(m.Segments)-1].Seq
	n.mu.Lock()
	if cdn && newest < n.newest {
		n.newest = newest - 1
	}
	fresh := newest > n.newest
	if fresh {
		n.newest = newest
	}
	n.mu.Unlock()
	if fresh { // raw is never written (the CDN's body, or OnPlaylist's copy): no copy here
		n.r.post(func() { n.eng.SharePlaylist(raw, newest) })
	}
}

// relaxed: the CDN's playlist may be polled less; not while this peer
// roots a stripe (its tree learns of new segments through it).
func (n *Node) relaxed() bool { return !n.roots() }

// roots reports that this peer fetches some stripe from the CDN as its
// root: its tree waits on it, so it asks for each new segment with a
// blocking reload where the origin offers them (hls.FollowConfig.Eager).
func (n *Node) roots() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.engSt.Roots > 0
}
