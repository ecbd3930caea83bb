package peer

import (
	"bytes"
	"context"
	"time"

	"github.com/p2phls/p2phls/hls"
)

// The browser's player (hls.js) reads the origin's own playlist, not one
// rendered here, so that its sequence numbers, discontinuities and dates stay
// the origin's when it switches between the CDN and the peer. It only loses
// its tail: the segments this node has not got yet, so hls.js never asks for
// a segment the swarm is still bringing (which would turn into a CDN fetch).

// OriginPlaylist returns the last playlist fetched from the origin, cut
// before the first segment that is not ready here. ok is false until the
// node has its start buffer (the caller then reads the CDN's playlist).
func (n *Node) OriginPlaylist() (b []byte, ok bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.raw == nil || n.media == nil || !n.win.started() {
		return nil, false
	}
	matched := false
	for i, s := range n.media.Segments {
		e := n.win.byURL(s.URL, s.Range)
		switch {
		case e == nil && !matched:
			continue // older than the window: the player may still fetch it from the CDN
		case e == nil || !e.ready && !e.gone:
			if i == 0 {
				return nil, false
			}
			return cutBefore(n.raw, i), true
		}
		matched = true
	}
	if !matched {
		return nil, false
	}
	return n.raw, true
}

// SegmentByURL is Segment for a segment named by its origin URL and byte
// range (nil for the whole resource). A player that knows its position
// (hls.js) says in `due` when it plays it, and the engine follows that
// (Engine.Due); due < 0: not known. ErrUnknownSegment: not in the window.
func (n *Node) SegmentByURL(ctx context.Context, url string, r *hls.ByteRange, due time.Duration) ([]byte, error) {
	n.mu.Lock()
	e := n.win.byURL(url, r)
	n.mu.Unlock()
	if e == nil {
		return nil, ErrUnknownSegment
	}
	if due >= 0 {
		id, at := e.item.ID, n.clk.Now()+due
		n.r.post(func() { n.eng.Due(id, at) })
	}
	return n.Segment(ctx, e.local)
}

// forPlayer is the CDN's playlist as this peer hands it to a player, without
// EXT-X-SERVER-CONTROL: the peer answers every reload at once and cannot
// hold one (a blocking reload, _HLS_msn) or send a delta (_HLS_skip), so the
// player must poll it.
func forPlayer(raw []byte) []byte {
	const tag = "#EXT-X-SERVER-CONTROL:"
	if !bytes.Contains(raw, []byte(tag)) {
		return raw
	}
	out := make([]byte, 0, len(raw))
	for line := range bytes.Lines(raw) {
		if !bytes.HasPrefix(bytes.TrimSpace(line), []byte(tag)) {
			out = append(out, line...)
		}
	}
	return out
}

// cutBefore returns raw without segment i (0-based) and everything after it:
// the text ends with segment i-1's URI line.
func cutBefore(raw []byte, i int) []byte {
	seen := 0
	off := 0
	for off < len(raw) {
		end := bytes.IndexByte(raw[off:], '\n')
		next := len(raw)
		if end >= 0 {
			next = off + end + 1
		}
		line := bytes.TrimSpace(raw[off:next])
		if len(line) > 0 && line[0] != '#' {
			seen++
			if seen == i {
				out := append([]byte(nil), raw[:next]...)
				if out[len(out)-1] != '\n' {
					out = append(out, '\n')
				}
				return out
			}
		}
		off = next
	}
	return raw
}
