package engine

import (
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// A test world under testing/synctest: every engine callback runs on one
// reactor goroutine; clocks are time.AfterFunc on the bubble's fake clock.

type reactor struct {
	mu    sync.Mutex
	start time.Time
}

func newReactor() *reactor { return &reactor{start: time.Now()} }

// do runs f with the reactor held (engines are single-threaded).
func (r *reactor) do(f func()) { r.mu.Lock(); defer r.mu.Unlock(); f() }

func (r *reactor) Now() time.Duration { return time.Since(r.start) }

func (r *reactor) AfterFunc(d time.Duration, f func()) func() {
	t := time.AfterFunc(d, func() { r.do(f) })
	return func() { t.Stop() }
}

type origin struct {
	segs     map[int64][]byte
	requests []string // "seq start+len"
	down     bool
	delay    time.Duration
}

type tpeer struct {
	id     PeerID
	eng    *Engine
	r      *reactor
	links  map[PeerID]*tpeer
	frozen bool           // sends nothing (a hung upstream)
	poison bool           // corrupts every piece it sends
	blamed map[PeerID]int // peers this one reported (Reporter), and how often

	got    map[string][]byte
	o      *origin
	inbox  []Message         // for a hand-driven peer (no engine)
	lists  map[uint32]int    // shared playlists taken, by newest (PlaylistTaker)
	done   []doneRec         // stripes as they came (StripeWatcher)
	piece  int               // the largest PIECE this peer sent, data bytes
	pushed map[PeerID][2]int // PIECEs sent to each peer: [not Forward, Forward]
}

type doneRec struct {
	seq   int64
	k     int
	via   Via
	depth int
	at    time.Duration
}

func (p *tpeer) StripeDone(seg SegmentInfo, k int, via Via, depth int, at time.Duration) {
	p.done = append(p.done, doneRec{seg.Seq, k, via, depth, at})
}

// OnPlaylist takes a shared playlist and, as a host that accepted it would,
// passes it on.
func (p *tpeer) OnPlaylist(_ PeerID, newest uint32, raw []byte) {
	if p.lists == nil {
		p.lists = map[uint32]int{}
	}
	p.lists[newest]++
	p.eng.SharePlaylist(raw, int64(newest))
}

func (p *tpeer) Send(to PeerID, m *Message) bool {
	q := p.links[to]
	if q == nil || p.frozen {
		return false
	}
	if p.poison && m.Type == TPiece {
		bad := *m
		bad.Data = append([]byte(nil), m.Data...)
		for i := range bad.Data {
			bad.Data[i] ^= 0x5a
		}
		m = &bad
	}
	if m.Type == TPiece {
		p.piece = max(p.piece, len(m.Data))
		if p.pushed == nil {
			p.pushed = map[PeerID][2]int{}
		}
		c := p.pushed[to]
		if m.Forward {
			c[1]++
		} else {
			c[0]++
		}
		p.pushed[to] = c
	}
	b := m.Encode(nil) // through the real wire format
	time.AfterFunc(5*time.Millisecond, func() {
		p.r.do(func() {
			if q.links[p.id] == nil {
				return
			}
			msg, err := Decode(b)
			if err != nil {
				panic(err)
			}
			if q.eng == nil {
				q.inbox = append(q.inbox, msg)
				return
			}
			if err := q.eng.OnMessage(p.id, &msg); err != nil {
				panic(err)
			}
		})
	})
	return true
}

func (p *tpeer) Fetch(seg SegmentInfo, r Range, done func([]byte, int64, error)) {
	o := p.o
	data := o.segs[seg.Seq]
	o.requests = append(o.requests, fmt.Sprintf("%s %d+%d", p.id, r.Start, r.Length))
	time.AfterFunc(20*time.Millisecond+o.delay, func() {
		p.r.do(func() {
			if o.down || data == nil {
				done(nil, 0, fmt.Errorf("origin down"))
				return
			}
			b := data
			if r.Length > 0 {
				b = data[r.Start : r.Start+r.Length]
			}
			done(b, int64(len(data)), nil)
		})
	})
}

// Misbehaved is the host's side of Reporter: record, and drop the link.
func (p *tpeer) Misbehaved(id PeerID, _ error) {
	if p.blamed == nil {
		p.blamed = map[PeerID]int{}
	}
	p.blamed[id]++
	if q := p.links[id]; q != nil {
		delete(p.links, id)
		delete(q.links, p.id)
		p.eng.RemoveNeighbour(id)
		q.eng.RemoveNeighbour(p.id)
	}
}

func (p *tpeer) Ready(seg SegmentInfo, data [][]byte) {
	var all []byte
	for _, d := range data {
		all = append(all, d...)
	}
	p.got[seg.ID] = all
}

type tworld struct {
	r     *reactor
	o     *origin
	peers []*tpeer
}

func newTWorld(nseg int) *tworld {
	o := &origin{segs: map[int64][]byte{}}
	for s := range int64(nseg) {
		b := make([]byte, 100_000+int(s)*1000)
		for i := range b {
			b[i] = byte(int(s)*7 + i*13)
		}
		o.segs[s] = b
	}
	return &tworld{r: newReactor(), o: o}
}

func (w *tworld) add(cfg Config) *tpeer {
	if cfg.Self == "" {
		cfg.Self = PeerID(fmt.Sprintf("peer%d", len(w.peers)))
	}
	if cfg.Bitrate == 0 {
		cfg.Bitrate = 50_000
	}
	p := &tpeer{id: cfg.Self, r: w.r, links: map[PeerID]*tpeer{}, got: map[string][]byte{}, o: w.o}
	p.eng = New(cfg, w.r, p, p, p)
	w.peers = append(w.peers, p)
	return p
}

func (w *tworld) link(a, b *tpeer) {
	w.r.do(func() {
		a.links[b.id], b.links[a.id] = b, a
		a.eng.AddNeighbour(b.id)
		b.eng.AddNeighbour(a.id)
	})
}

func (w *tworld) unlink(a, b *tpeer) {
	w.r.do(func() {
		delete(a.links, b.id)
		delete(b.links, a.id)
		a.eng.RemoveNeighbour(b.id)
		b.eng.RemoveNeighbour(a.id)
	})
}

func segInfo(s int64, at time.Duration) SegmentInfo {
	return SegmentInfo{ID: fmt.Sprintf("0/%d/seg%d.ts", s, s), URL: "u", Seq: s, Duration: 2 * time.Second, Available: at}
}

// publish shows segment s to every listed peer now.
func (w *tworld) publish(s int64, peers ...*tpeer) {
	w.r.do(func() {
		for _, p := range peers {
			p.eng.OnSegment(segInfo(s, w.r.Now()))
		}
	})
}

func (w *tworld) checkBytes(t *testing.T, p *tpeer, s int64) {
	t.Helper()
	got, ok := p.got[segInfo(s, 0).ID]
	if !ok {
		t.Fatalf("%s: segment %d never ready", p.id, s)
	}
	if string(got) != string(w.o.segs[s]) {
		t.Fatalf("%s: segment %d bytes differ from the origin's", p.id, s)
	}
}

// received is a copy of a hand-driven peer's inbox, taken on the reactor.
func (p *tpeer) received() []Message {
	var out []Message
	p.r.do(func() { out = append(out, p.inbox...) })
	return out
}

// rootOfAllButStripeZero links b to a hand-driven peer up that feeds b's
// stripe 0 only (b's other stripes find no upstream: b roots them) after
// b's fast-start segment 0.
func (w *tworld) rootOfAllButStripeZero(b *tpeer, hello bool) *tpeer {
	up := &tpeer{id: "up", r: w.r, links: map[PeerID]*tpeer{}, o: w.o} // driven by hand
	w.r.do(func() {
		up.links[b.id], b.links[up.id] = b, up
		b.eng.OnSegment(segInfo(0, 0)) // fast start, from the CDN
		b.eng.AddNeighbour(up.id)
		if hello {
			_ = b.eng.OnMessage(up.id, &Message{Type: THello, Upload: 1024})
		}
		st := Message{Type: TState, Stripes: make([]StripeState, 4)}
		st.Stripes[0] = StripeState{Root: true, Fed: true, Slots: 3}
		_ = b.eng.OnMessage(up.id, &st)
	})
	time.Sleep(100 * time.Millisecond)
	synctest.Wait()
	w.r.do(func() { _ = b.eng.OnMessage(up.id, &Message{Type: TAccept, Stripe: 0}) })
	return up
}
