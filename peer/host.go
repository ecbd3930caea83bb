package peer

import (
	"context"
	"time"

	"github.com/p2phls/p2phls/engine"
	"github.com/p2phls/p2phls/hls"
)

// engineTransport sends the engine's messages over the WebRTC links.
type engineTransport Node

func (t *engineTransport) Send(to engine.PeerID, m *engine.Message) bool {
	n := (*Node)(t)
	if n.net == nil {
		return false
	}
	if n.cfg.TestCorrupt && m.Type == engine.TPiece {
		bad := *m
		bad.Data = make([]byte, len(m.Data))
		for i, c := range m.Data {
			bad.Data[i] = ^c
		}
		m = &bad
	}
	n.sendBuf = m.Encode(n.sendBuf[:0]) // the engine calls from the reactor only; the link copies
	if m.Forward {
		return n.net.SendFirst(string(to), n.sendBuf)
	}
	return n.net.Send(string(to), n.sendBuf)
}

// engineSource fetches for the engine from the CDN, off the reactor.
type engineSource Node

func (s *engineSource) Fetch(seg engine.SegmentInfo, r engine.Range, done func([]byte, int64, error)) {
	n := (*Node)(s)
	n.mu.Lock()
	e := n.win.byID(seg.ID)
	n.mu.Unlock()
	var base *hls.ByteRange
	if e != nil {
		base = e.item.Range
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*max(seg.Duration, time.Second))
		defer cancel()
		br, err := absRange(base, r)
		if err != nil {
			n.r.post(func() { done(nil, 0, err) })
			return
		}
		b, total, err := n.src.Get(ctx, seg.URL, br)
		if base != nil && err == nil {
			total = base.Length // a byte-range segment's size is its range
		}
		if err != nil {
			n.log.Warn("CDN fetch failed", "segment", seg.ID, "err", err)
		}
		n.r.post(func() { done(b, total, err) })
	}()
}

// absRange maps a range of a segment to a range of its resource.
func absRange(base *hls.ByteRange, r engine.Range) (*hls.ByteRange, error) {
	switch {
	case base == nil && r.Length == 0:
		return nil, nil
	case base == nil:
		return &hls.ByteRange{Start: r.Start, Length: r.Length}, nil
	case r.Length == 0:
		return base, nil
	case r.Start+r.Length > base.Length:
		return nil, ErrUnknownSegment
	}
	return &hls.ByteRange{Start: base.Start + r.Start, Length: r.Length}, nil
}

// enginePlayer receives complete segments.
type enginePlayer Node

func (p *enginePlayer) Ready(seg engine.SegmentInfo, data [][]byte) { (*Node)(p).ready(seg, data) }

// Playlist returns the player's media playlist. The first one waits for the
// whole start buffer (window.started): a second for peers to bring it, then
// from the CDN at once; until ctx ends.
func (n *Node) Playlist(ctx context.Context) ([]byte, error) {
	asked := time.Now()
	for {
		n.mu.Lock()
		ch := n.changed
		if n.win.started() || ch == nil {
			b := n.win.playlist()
			n.mu.Unlock()
			return b, nil
		}
		if time.Since(asked) >= startWait {
			n.needStart()
		}
		n.mu.Unlock()
		t := time.NewTimer(startWait / 4)
		select {
		case <-ch:
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		}
		t.Stop()
	}
}

// startWait is how long a player's first playlist waits for peers to bring
// the start segments before the CDN is asked for them at once.
const startWait = time.Second

// needStart pulls the start segments forward: a player is waiting for its
// first playlist, which lists them all (window.started). Under n.mu.
func (n *Node) needStart() {
	for _, e := range n.win.entries {
		if e.initial && !e.ready && !e.gone && !e.asked {
			e.asked = true
			id := e.item.ID
			n.r.post(func() { n.eng.Need(id, n.clk.Now()) })
		}
	}
}

// Segment returns the bytes of the segment with local number local, waiting
// for it (and pulling the CDN completion forward) if the player asked early.
func (n *Node) Segment(ctx context.Context, local int64) ([]byte, error) {
	asked := false
	for {
		n.mu.Lock()
		e, ch := n.win.byLocal(local), n.changed
		switch {
		case e == nil:
			n.mu.Unlock()
			return nil, ErrUnknownSegment
		case e.ready:
			n.mu.Unlock()
			if !asked {
				n.playing(e.item.ID)
			}
			return e.data, nil
		case e.gone:
			n.mu.Unlock()
			return nil, ErrGone
		case ch == nil:
			n.mu.Unlock()
			return nil, ErrClosed
		}
		id := e.item.ID
		n.mu.Unlock()
		if !asked {
			asked = true // the player wants it now: whatever is missing comes from the CDN now
			n.playing(id)
			n.r.post(func() { n.eng.Need(id, n.clk.Now()) })
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// playing tells the engine the player took segment id now: its schedule
// follows the player's, which may have started well after this peer.
func (n *Node) playing(id string) {
	at := n.clk.Now()
	n.r.post(func() { n.eng.Playing(id, at) })
}

// Init returns EXT-X-MAP section i, fetched from the CDN (small, not shared).
func (n *Node) Init(ctx context.Context, i int) ([]byte, error) {
	n.mu.Lock()
	if i < 0 || i >= len(n.win.inits) {
		n.mu.Unlock()
		return nil, ErrUnknownSegment
	}
	m := n.win.inits[i]
	n.mu.Unlock()
	b, err := n.src.Fetch(ctx, m.URL, m.Range)
	n.mu.Lock()
	n.direct += int64(len(b))
	n.mu.Unlock()
	return b, err
}
