package sim

import (
	"fmt"
	"time"

	"github.com/p2phls/p2phls/engine"
)

// wireOverhead approximates SCTP + DTLS + UDP + IP bytes per message.
const wireOverhead = 48

type node struct {
	w           *World
	p           *part // whose loop runs this viewer
	id          engine.PeerID
	eng         *engine.Engine
	up, down    float64 // bytes/s
	upCap       int64   // declared to the engine and the tracker
	upRate      int64   // upload between its last two reports, as the tracker sees it
	reportedUp  int64   // bytes uploaded at the last report
	upFree      time.Duration
	tx          uplink // the upload with a queue per link (unless Config.FIFOUplink)
	downFree    time.Duration
	reachable   bool
	consume     bool
	alive       bool
	joined      time.Duration
	left        time.Duration
	links       map[engine.PeerID]*node
	unlinks     uint64 // links removed so far: a message in flight skips the look-up if none was
	ready       map[int64]time.Duration
	first       int64
	known       int64 // newest segment in this viewer's playlist
	early       int64 // segments learnt from an upstream's playlist before its own refresh
	playStart   time.Duration
	phase       time.Duration // of the player's reloads (PlayerReloads)
	control     int64         // non-media bytes received (wire + overhead)
	mediaP2P    int64
	lastSampled engine.Stats
}

// playlistSize is the text of a live playlist of a few segments, as shared.
const playlistSize = 400

var playlistText = make([]byte, playlistSize)

// learn puts segments up to s in this viewer's playlist (its own refresh,
// or an upstream's shared playlist) and passes the playlist on.
func (n *node) learn(s int64) {
	if !n.alive || s <= n.known {
		return
	}
	now := n.p.loop.Now()
	for q := max(n.known+1, n.first); q <= s; q++ {
		n.eng.OnSegment(n.w.info(q, now))
	}
	n.known = s
	if n.w.cfg.SharePlaylists {
		n.eng.SharePlaylist(playlistText, s)
	}
}

// OnPlaylist implements engine.PlaylistTaker.
func (n *node) OnPlaylist(_ engine.PeerID, newest uint32, _ []byte) {
	if s := int64(newest); n.alive && s > n.known {
		n.early += s - n.known
		n.learn(s)
	}
}

// Send implements engine.Transport: the message crosses the sender's upload
// queue, the link and the receiver's download queue.
func (n *node) Send(to engine.PeerID, m *engine.Message) bool {
	peer := n.links[to]
	if peer == nil || !n.alive {
		return false
	}
	w, p := n.w, n.p
	now := p.loop.Now()
	size := float64(m.WireSize() + wireOverhead)
	// A message waits its turn in the upload queue: its link's, or the one
	// first-in first-out queue with FIFOUplink. With ControlFirst control
	// messages skip it (as if the engine paced media on the buffered amount
	// so that control never sat behind seconds of it).
	f := &flight{from: n, to: peer, gen: peer.unlinks, size: size, msg: *m}
	var at time.Duration
	switch {
	case !w.cfg.FIFOUplink && (m.Type == engine.TPiece || !w.cfg.ControlFirst):
		n.tx.push(f)
		return true
	case m.Type == engine.TPiece || !w.cfg.ControlFirst:
		start := max(now, n.upFree)
		n.upFree = start + dur(size/n.up)
		at = n.upFree + p.latency()
	default:
		n.upFree = max(now, n.upFree) + dur(size/n.up)
		at = now + dur(size/n.up) + p.latency()
	}
	p.deliver(peer.p, at, f)
	return true
}

// flight is a message between viewers: it reaches the receiver (its first
// run), waits its turn in the receiver's download queue, and is handed to
// the receiver's engine (its second run). A link dropped meanwhile drops it.
type flight struct {
	from, to *node
	gen      uint64 // the receiver's unlinks when it was sent
	size     float64
	arrived  bool
	msg      engine.Message
}

func (f *flight) run() {
	peer, n := f.to, f.from
	if !peer.alive || peer.unlinks != f.gen && peer.links[n.id] == nil {
		return
	}
	q := peer.p
	if !f.arrived {
		f.arrived = true
		done := max(q.loop.Now(), peer.downFree) + dur(f.size/peer.down)
		peer.downFree = done
		q.loop.post(done, f)
		return
	}
	peer.control += int64(f.size) - int64(len(f.msg.Data))
	if err := peer.eng.OnMessage(n.id, &f.msg); err != nil {
		q.errors++
		q.dropLink(peer, n)
	}
}

func dur(seconds float64) time.Duration { return time.Duration(seconds * float64(time.Second)) }

// Fetch implements engine.Source: the CDN answers after its RTT, at its
// per-response rate, through the viewer's download queue.
type cdn struct{ n *node }

func (c cdn) Fetch(seg engine.SegmentInfo, r engine.Range, done func([]byte, int64, error)) {
	n, w, p := c.n, c.n.w, c.n.p
	data := w.segData(seg.Seq, p.loop.Now())
	if data == nil {
		p.loop.AfterFunc(w.cfg.CDNRTT, func() { done(nil, 0, fmt.Errorf("sim: no segment %d", seg.Seq)) })
		return
	}
	b := data
	if r.Length > 0 {
		if r.Start+r.Length > int64(len(data)) {
			p.loop.AfterFunc(w.cfg.CDNRTT, func() { done(nil, 0, fmt.Errorf("sim: bad range")) })
			return
		}
		b = data[r.Start : r.Start+r.Length]
	}
	p.cdnRequests++
	p.cdnBytes += int64(len(b))
	arrive := p.loop.Now() + w.cfg.CDNRTT + dur(float64(len(b))/w.cfg.CDNRate)
	p.loop.Post(arrive, func() {
		if !n.alive {
			return
		}
		fin := max(p.loop.Now(), n.downFree) + dur(float64(len(b))/n.down)
		n.downFree = fin
		p.loop.Post(fin, func() {
			if n.alive {
				done(b, int64(len(data)), nil)
			}
		})
	})
}

// Ready implements engine.Player.
func (n *node) Ready(seg engine.SegmentInfo, data [][]byte) {
	if _, dup := n.ready[seg.Seq]; dup {
		n.p.errors++
		return
	}
	now := n.p.loop.Now()
	n.ready[seg.Seq] = now
	if n.playStart == 0 && seg.Seq == n.first {
		n.playStart = now
	}
	if n.w.cfg.Verify && !n.w.verify(seg.Seq, data) {
		n.p.corrupt++
	}
}

// stalls replays the player: it starts when its first segment is ready and
// needs each next one a segment duration later, waiting (a stall) when it is
// not there (with PlayerReloads: when it has seen it, at a reload).
func (n *node) stalls(end time.Duration) (stalls, played int) {
	if n.playStart == 0 {
		return 0, 0
	}
	if n.left > 0 {
		end = n.left
	}
	need := n.seen(n.playStart)
	for s := n.first; ; s++ {
		if need >= end {
			return
		}
		at, ok := n.ready[s]
		at = n.seen(at)
		if !ok || at > need {
			stalls++
			if !ok || at >= end {
				return
			}
			need = at
		}
		played++
		need += n.w.cfg.Segment
	}
}

// seen is when the player learns of a segment ready at `at`: then, or with
// PlayerReloads at its next playlist reload (one a segment duration, at the
// viewer's phase).
func (n *node) seen(at time.Duration) time.Duration {
	d := n.w.cfg.Segment
	if !n.w.cfg.PlayerReloads || d <= 0 {
		return at
	}
	k := (at - n.phase + d - 1) / d
	return n.phase + k*d
}

// reloadPhase draws a viewer's reload phase in [0, d) from its id.
func reloadPhase(id engine.PeerID, d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	var h uint64 = 14695981039346656037
	for i := 0; i < len(id); i++ {
		h = (h ^ uint64(id[i])) * 1099511628211
	}
	return time.Duration(h % uint64(d))
}
