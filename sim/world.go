package sim

import (
	"bytes"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"time"

	"github.com/p2phls/p2phls/engine"
	"github.com/p2phls/p2phls/tracker"
	"github.com/p2phls/p2phls/tracker/peerstore"
)

// World is one arm of a simulation: the stream, the viewers, the network.
type World struct {
	cfg      Config
	loop     Loop
	rng      *rand.Rand
	nodes    []*node
	alive    []*node
	segs     [][]byte
	parts    []*part
	bound    time.Duration // the window the parts' workers run to
	gen      atomic.Uint64 // windows started
	pending  atomic.Int32  // workers still in the window
	quit     atomic.Bool
	nextID   int
	timeline []Point
}

// availableAt is when segment s appears at the origin.
func (w *World) availableAt(s int64) time.Duration { return time.Duration(s) * w.cfg.Segment }

// segData is segment s as the origin has it at now: nil before then.
func (w *World) segData(s int64, now time.Duration) []byte {
	if s < 0 || s >= int64(len(w.segs)) || w.availableAt(s) > now {
		return nil
	}
	return w.segs[s]
}

func (w *World) verify(s int64, data [][]byte) bool {
	want := w.segs[s]
	var got []byte
	for _, p := range data {
		got = append(got, p...)
	}
	return bytes.Equal(got, want)
}

func newWorld(cfg Config) *World {
	w := &World{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, 7))}
	for i := range cfg.Parts {
		w.parts = append(w.parts, &part{w: w, idx: i, rng: rand.New(rand.NewPCG(cfg.Seed, 100+uint64(i))), out: make([][]slot, cfg.Parts)})
	}
	total := int64((cfg.Duration+cfg.JoinOver+time.Minute)/cfg.Segment) + 2
	srng := rand.New(rand.NewPCG(cfg.Seed, 11)) // same stream in both arms
	for range total {
		size := int(float64(cfg.Bitrate) * cfg.Segment.Seconds() * (0.85 + 0.3*srng.Float64()))
		b := make([]byte, size)
		for i := 0; i < size; i += 8 {
			v := srng.Uint64()
			for j := 0; j < 8 && i+j < size; j++ {
				b[i+j] = byte(v >> (8 * j))
			}
		}
		w.segs = append(w.segs, b)
	}
	return w
}

func (w *World) class() Class {
	x := w.rng.Float64()
	for _, c := range w.cfg.Classes {
		if x < c.Share {
			return c
		}
		x -= c.Share
	}
	return w.cfg.Classes[len(w.cfg.Classes)-1]
}

// join brings a new viewer in now.
func (w *World) join() {
	c := w.class()
	w.nextID++
	// a consume-only viewer still sends control messages: its link has some upload
	n := &node{w: w, p: w.parts[w.nextID%len(w.parts)], id: engine.PeerID(fmt.Sprintf("p%05d", w.nextID)), up: max(0.5, c.Upload) * float64(w.cfg.Bitrate),
		down: w.cfg.Download * float64(w.cfg.Bitrate), upCap: int64(c.Upload * float64(w.cfg.Bitrate)), reachable: !c.Unreachable, consume: c.ConsumeOnly || c.Upload == 0,
		alive: true, joined: w.loop.Now(), links: map[engine.PeerID]*node{}, ready: map[int64]time.Duration{}}
	n.phase = reloadPhase(n.id, w.cfg.Segment)
	n.tx.n = n
	n.eng = engine.New(engine.Config{Self: n.id, Stripes: w.cfg.Stripes, UploadCap: n.upCap,
		ConsumeOnly: n.consume, CDNOnly: w.cfg.cdnOnly, Bitrate: w.cfg.Bitrate, Seed: w.cfg.Seed,
		SharePlaylists: w.cfg.SharePlaylists, Utilization: w.cfg.Utilization, MaxDepth: w.cfg.MaxDepth, Deadline: w.cfg.Deadline, PieceSize: w.cfg.PieceSize,
		LeafPull: w.cfg.LeafPull, NoClimb: w.cfg.NoClimb, ReloadLag: w.cfg.RealMargins, MinMargin: realMargin(w.cfg.RealMargins), StartWith: w.cfg.StartWith},
		&n.p.loop, n, cdn{n}, n)
	w.nodes = append(w.nodes, n)
	w.alive = append(w.alive, n)
	// the first playlist: start StartWith segments behind the live edge
	last := int64(w.loop.Now() / w.cfg.Segment)
	first := int64(n.eng.StartIndex(int(last + 1)))
	n.first = first
	n.known = first - 1
	n.p.loop.AfterFunc(w.cfg.CDNRTT, func() { n.learn(last) })
	if !w.cfg.cdnOnly {
		w.findPeers(n)
	}
}

// info describes segment s to a viewer whose playlist showed it at seen: as
// a real peer, the viewer counts its deadline from then, so deadlines in a
// swarm differ by the viewers' poll phases (up to half a segment).
func (w *World) info(s int64, seen time.Duration) engine.SegmentInfo {
	return engine.SegmentInfo{ID: fmt.Sprintf("0/%d/live/seg%d.ts", s, s), URL: "sim", Seq: s, Duration: w.cfg.Segment, Available: seen}
}

// epoch puts the virtual clock on the wall clock the tracker's ranking reads.
var epoch = time.Unix(1_700_000_000, 0)

// findPeers is the tracker (tracker.Ranked): for the k links a viewer lacks,
// the best of a random sample of 4k+1 live viewers by the tracker's own
// ranking (uptime and spare upload, from the stats each viewer reports),
// those that accept one more link (MaxConns) and can reach it.
func (w *World) findPeers(n *node) { w.morePeers(n, w.cfg.Neighbours-len(n.links)) }

// morePeers asks the tracker for want more links.
func (w *World) morePeers(n *node, want int) {
	want = min(want, w.cfg.MaxConns-len(n.links))
	if want <= 0 || len(w.alive) < 2 {
		return
	}
	pool := make([]peerstore.Peer, 0, 4*want+1)
	byID := make(map[string]*node, 4*want+1)
	for range 4*want + 1 {
		p := w.alive[w.rng.IntN(len(w.alive))]
		if byID[string(p.id)] == nil {
			byID[string(p.id)] = p
			pool = append(pool, peerstore.Peer{ID: string(p.id), Joined: epoch.Add(p.joined), UploadCap: p.upCap, UpRate: p.upRate})
		}
	}
	for _, c := range tracker.RankInPlace(w.rng, pool, string(n.id), len(pool), epoch.Add(w.loop.Now())) {
		p := byID[c.ID]
		if want == 0 {
			return
		}
		if n.links[p.id] == nil && len(p.links) < w.cfg.MaxConns && (n.reachable || p.reachable) {
			w.link(n, p)
			want--
		}
	}
}

// link connects two viewers; their engines learn of it once the link is up.
func (w *World) link(n, p *node) {
	n.links[p.id], p.links[n.id] = p, n
	setup := 3*w.cfg.RTT + 100*time.Millisecond
	w.loop.AfterFunc(setup, func() {
		if n.alive && p.alive && n.links[p.id] != nil {
			n.eng.AddNeighbour(p.id)
			p.eng.AddNeighbour(n.id)
		}
	})
}

// reportFrom has every viewer report its upload to the tracker every
// reportEvery, as peers do (tracker/client): the rate between two reports
// is what the ranking reads as used upload.
func (w *World) reportFrom(t time.Duration) {
	w.loop.At(t, func() {
		for _, n := range w.alive {
			up := n.eng.Stats().BytesUploaded
			n.upRate = int64(float64(up-n.reportedUp) / reportEvery.Seconds())
			n.reportedUp = up
			if n.eng.WantsPeers() {
				w.morePeers(n, 2)
			}
		}
		if w.loop.Now()+reportEvery <= w.end() {
			w.reportFrom(w.loop.Now() + reportEvery)
		}
	})
}

// reportEvery is how often a viewer reports its stats to the tracker.
const reportEvery = 2 * time.Second

func (w *World) unlink(a, b *node) {
	if a.links[b.id] == nil {
		return
	}
	delete(a.links, b.id)
	delete(b.links, a.id)
	a.unlinks++
	b.unlinks++
	if a.alive {
		a.eng.RemoveNeighbour(b.id)
	}
	if b.alive {
		b.eng.RemoveNeighbour(a.id)
	}
}

// leave kills a viewer without a goodbye; its neighbours notice after a
// couple of seconds (DataChannel/ICE failure).
func (w *World) leave(n *node) {
	n.alive, n.left = false, w.loop.Now()
	for i, a := range w.alive {
		if a == n {
			w.alive[i] = w.alive[len(w.alive)-1]
			w.alive = w.alive[:len(w.alive)-1]
			break
		}
	}
	for _, id := range slices.Sorted(maps.Keys(n.links)) { // fixed order: a seed replays exactly
		p := n.links[id]
		w.loop.AfterFunc(2*time.Second, func() {
			w.unlink(p, n)
			if p.alive && len(p.links) < w.cfg.Neighbours/2 {
				w.findPeers(p)
			}
		})
	}
}

// realMargin is a real peer's MinMargin (peer.minMargin) when on.
func realMargin(on bool) time.Duration {
	if on {
		return 500 * time.Millisecond
	}
	return 0
}
