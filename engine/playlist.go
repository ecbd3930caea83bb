package engine

// Playlist sharing: a new playlist travels down one stripe tree, from its
// root (which fetched it from the CDN) to the leaves, one hop per link. The
// tree is stripe newest mod K, so each update costs every peer one copy and
// the K trees carry updates in turn; a playlist lists the segments before
// its newest too, so an update missed in one tree comes with the next.
// What the host does with a playlist (checks, "not older") is its business:
// the engine only passes it on.

// PlaylistTaker is implemented by a Player that takes shared playlists.
type PlaylistTaker interface {
	// OnPlaylist is a playlist from this peer's upstream; newest is the
	// media sequence of its newest segment (low 32 bits), as the sender said.
	OnPlaylist(from PeerID, newest uint32, raw []byte)
}

// SharePlaylist sends a playlist the host has accepted (from the CDN or from
// an upstream) to this peer's children in stripe newest mod K that take
// playlists. raw is not kept. Playlists over MaxPiece are not shared.
func (e *Engine) SharePlaylist(raw []byte, newest int64) {
	if !e.cfg.SharePlaylists || len(raw) > MaxPiece || newest < 0 {
		return
	}
	m := &Message{Type: TPlaylist, Newest: uint32(newest), Data: raw}
	k := int(m.Newest % uint32(e.cfg.Stripes))
	for _, id := range e.children[k] {
		if n := e.nbrs[id]; n != nil && n.lists {
			e.send(id, m)
			e.stats.PlaylistsSent++
		}
	}
}

// onPlaylist takes a playlist only from this peer's upstream in the stripe
// that carries it; others (a peer that re-parented a moment ago) are
// ignored, not punished.
func (e *Engine) onPlaylist(n *neighbour, m *Message) {
	if !e.cfg.SharePlaylists {
		return
	}
	u := e.up[int(m.Newest%uint32(e.cfg.Stripes))]
	if u.peer != n.id || u.pending {
		return
	}
	if t, ok := e.pl.(PlaylistTaker); ok {
		e.stats.PlaylistsTaken++
		t.OnPlaylist(n.id, m.Newest, m.Data)
	}
}
