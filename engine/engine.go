// Package engine is the p2phls peer algorithm — the seed's live P2P scheme
// with deadlines instead of escalation. It knows no sockets, no wall clock
// and no browser: the host gives it a Clock, a Transport (peer links), a
// Source (CDN) and a Player, and calls it from one goroutine only (callbacks
// included). It builds for GOOS=js GOARCH=wasm.
//
// A segment is split into K contiguous stripes. For each stripe a peer
// subscribes to one upstream, which pushes that stripe of every new segment
// piece by piece as it receives it (cut-through). Peers with no usable
// upstream for a stripe are its roots and take it from the CDN. Whatever is
// still missing shortly before the player needs it is fetched from the CDN by
// byte range, so P2P never adds a stall.
package engine

import (
	"hash/fnv"
	"math/rand/v2"
	"time"
)

// PeerID names a peer (the tracker's id).
type PeerID string

// Clock is the engine's time: a monotonic duration since an arbitrary start.
type Clock interface {
	Now() time.Duration
	// AfterFunc runs f on the engine's goroutine after d; stop cancels it.
	AfterFunc(d time.Duration, f func()) (stop func())
}

// Transport sends messages to connected peers; false = not sent (link gone or
// full). The message must not be retained after Send returns unless copied;
// Data may be shared.
type Transport interface {
	Send(to PeerID, m *Message) bool
}

// Range is a byte range of a segment; Length 0 = the whole segment.
type Range struct{ Start, Length int64 }

// Source fetches from the CDN. done runs on the engine's goroutine with the
// bytes and the segment's total size.
type Source interface {
	Fetch(seg SegmentInfo, r Range, done func(data []byte, total int64, err error))
}

// Player receives each segment once, complete, in pieces that concatenate to
// its bytes.
type Player interface {
	Ready(seg SegmentInfo, data [][]byte)
}

// SegmentInfo identifies a segment and when it appeared.
type SegmentInfo struct {
	ID        string
	URL       string
	Seq       int64
	Duration  time.Duration
	Available time.Duration // engine clock time the playlist showed it
}

// DefaultMaxDepth bounds a stripe tree's depth when none is set. 8 rather
// than 6 since session 7: with busy peers' queues kept short, a peer two
// hops deeper is still on time, and at 1,000 mixed viewers the CDN bytes
// fell 3–6 % (extra delay p50 +0.15 s, p95 unchanged). 10 since session
// 26: offload +0.007 at 1,000 mixed viewers (seeds 1–7) and +0.011 /
// +0.007 at 3,000; with pushes to forwarding children sent first
// (Message.Forward) a level costs about 35 ms instead of 50, which keeps
// the deeper trees on time (docs/BENCHMARKS.md).
const DefaultMaxDepth = 10

// DefaultSpill is the share of its capacity (%) a peer keeps for its home
// stripe before a starving stripe gets a slot: 75 since session 17 (50
// before). With climbing, spill slots no longer raised the offload of 1,000
// mixed viewers (mean 0.835 against 0.840 over 8 seeds) and cost 0.27 s of
// extra delay at p95 (2.41 against 2.15 s): a spill child hangs off a peer
// that is a leaf, often deep, in that stripe. At 75 a 2× peer (6 slots)
// still spills once its home is nearly empty, which small swarms need; a
// 0.7× one (2 slots) never does.
const DefaultSpill = 75

// DefaultStripes is K when none is set: the stripes of a segment (and the
// cut the integrity service hashes by).
const DefaultStripes = 4

// Config of an engine. Zero values take the defaults noted.
type Config struct {
	Self        PeerID
	Stripes     int           // K, default DefaultStripes
	PieceSize   int           // bytes per PIECE, at most MaxPiece; default 16 KiB, less for segments under 2 s (Engine.piece)
	MaxDepth    int           // tree depth bound, default DefaultMaxDepth
	UploadCap   int64         // bytes/s this peer may upload; 0 = 4× the stream
	Utilization float64       // share of UploadCap given to children, default 0.8
	Spill       int           // % of capacity kept for the home stripe before others get slots, default DefaultSpill; others get slots only when starving
	ConsumeOnly bool          // never upload (mobile)
	Deadline    time.Duration // the player needs a segment this long after it appears; default DefaultDeadline
	CDNTime     time.Duration // expected CDN fetch time (initial; then measured), default 300ms
	Bitrate     int64         // expected stream bytes/s before one is measured, default 250,000 (2 Mbit/s)
	StartWith   int           // on the first playlist, segments from the live edge to start with, default 3
	CDNOnly     bool          // never use peers (the CDN-only arm)
	// RootGrace: for this long after the first segment a stripe with no
	// upstream waits for links to open before this peer becomes its root
	// (the deadline completion still covers the player). Default 0.
	RootGrace time.Duration
	// MinMargin is the least time before the player's need at which the CDN
	// completion starts (else 2 × CDNTime, tiny on a fast CDN). Default 0.
	MinMargin time.Duration
	// ReloadLag: the player learns of a ready segment only at its next
	// playlist reload, every half target duration, so the CDN completion
	// starts that much earlier again (on top of MinMargin): 1 s for 2 s
	// segments, 0.5 s for segments of 1 s and less (Engine.margin).
	ReloadLag bool
	// AwaitPlayer: the host calls Playing when its player takes a segment;
	// until the first call a segment after the start ones (StartWith) is
	// due at its deadline alone, not on a player's turn counted from the
	// fast start (a proxy's player may open long after its peer; one that
	// opens at once starts with the start segments, which keep that turn).
	// Without it the player starts with the fast start, as the simulator's
	// do.
	AwaitPlayer bool
	Seed        uint64 // randomness (tie-breaks)
	// SharePlaylists: playlists travel down the stripe trees (PLAYLIST);
	// the host gets them if its Player is also a PlaylistTaker.
	SharePlaylists bool
	// LeafPull: a root of a stripe with no child in it (a leaf root) does
	// not fetch that stripe from the CDN when a segment appears; it pulls
	// it from a neighbour that holds it (spending that neighbour's spare
	// upload), and the deadline completion covers what does not come. Less
	// CDN, more delay (docs/BENCHMARKS.md, session 12). Default off.
	LeafPull bool
	// NoClimb: a peer keeps its upstream in a stripe until it fails, however
	// deep (the engine before session 17). By default one that extends a
	// tree moves up when a neighbour two or more levels shallower has a slot
	// (climb.go).
	NoClimb bool
}

func (c *Config) defaults() {
	if c.Stripes <= 0 || c.Stripes > MaxStripes {
		c.Stripes = DefaultStripes
	}
	c.PieceSize = min(max(0, c.PieceSize), MaxPiece) // 0: by the segment's duration
	if c.MaxDepth <= 0 || c.MaxDepth > MaxDepth {
		c.MaxDepth = DefaultMaxDepth
	}
	if c.Utilization <= 0 || c.Utilization > 1 {
		c.Utilization = 0.8
	}
	if c.Spill <= 0 || c.Spill > 100 {
		c.Spill = DefaultSpill
	}
	if c.CDNTime <= 0 {
		c.CDNTime = 300 * time.Millisecond
	}
	if c.Bitrate <= 0 {
		c.Bitrate = 250_000
	}
	if c.StartWith <= 0 {
		c.StartWith = 3
	}
}

// Stats are a peer's counters (DESIGN §4 words).
type Stats struct {
	BytesCDN        int64 `json:"bytes_cdn"`
	CDNStart        int64 `json:"bytes_cdn_start"`    // of which: fast start
	CDNRoot         int64 `json:"bytes_cdn_root"`     // of which: stripes this peer is a root of
	CDNDeadline     int64 `json:"bytes_cdn_deadline"` // of which: completions at the deadline
	CDNBacklog      int64 `json:"bytes_cdn_backlog"`  // of CDNRoot and CDNDeadline: the first playlist's later segments (backlog)
	BytesP2P        int64 `json:"bytes_p2p"`
	BytesUploaded   int64 `json:"bytes_uploaded"`
	BytesWasted     int64 `json:"bytes_wasted"` // received twice
	CDNRequests     int64 `json:"cdn_requests"`
	CDNErrors       int64 `json:"cdn_errors"`
	ControlSent     int64 `json:"control_bytes_sent"`
	Segments        int64 `json:"segments"`
	Late            int64 `json:"late_stripes"`  // stripes completed from the CDN at the deadline
	LateSegments    int64 `json:"late_segments"` // segments of which something came at the deadline
	Climbs          int64 `json:"climbs"`        // moves asked for to an upstream two or more levels up (climb.go)
	LeafPulls       int64 `json:"leaf_pulls"`    // stripes a leaf root asked a neighbour for instead of the CDN (Config.LeafPull)
	Dropped         int64 `json:"peers_dropped"`
	SilentUpstreams int64 `json:"silent_upstreams"` // stripes completed from the CDN early: the upstream was silent through a ping (liveness.go)
	BadBlocks       int64 `json:"bad_blocks"`       // blocks from peers that did not match their digest
	PlaylistsSent   int64 `json:"playlists_sent"`   // shared with children
	PlaylistsTaken  int64 `json:"playlists_taken"`  // from upstreams, handed to the host
	Children        int   `json:"children"`
	Roots           int   `json:"root_stripes"`
}

// Engine is one peer.
type Engine struct {
	cfg       Config
	integrity bool // use peers' bytes only once checked (SetIntegrity)
	clk       Clock
	tr        Transport
	src       Source
	pl        Player
	watch     StripeWatcher // pl, if it watches stripes
	self      uint32
	gone      map[uint32]time.Duration // hashes of neighbours lost lately, until when their subtrees are suspect
	rng       *rand.Rand

	nbrs      map[PeerID]*neighbour
	nbrIDs    peerSet      // neighbour ids, sorted: iteration order is fixed
	nbrList   []*neighbour // the neighbours in nbrIDs order
	slots     []bool       // neighbour slots in use (neighbour.slot)
	lastNbr   *neighbour   // the sender of the last message: pieces come in runs
	lastSeg   *segment     // the segment last looked up by id, likewise
	up        []upstream
	children  []peerSet
	nchild    int
	segs      map[string]*segment
	order     []string // segment ids, oldest first
	started   bool
	homeK     int           // home stripe, -1 until chosen
	firstSeq  int64         // the fast-start segment
	playAt    time.Duration // when the player starts, about
	playing   bool          // the host said the player took a segment (Playing)
	told      bool          // the player said when it plays a segment (Due): its turns, not the deadline
	bitrate   float64       // the stream's rate, bytes/s, following each segment
	capRate   float64       // the same, slow: what capacity counts slots by (measure)
	rates     int           // segments measured
	stats     Stats
	dirty     bool
	flushing  bool
	lastState []byte // encoding of the last STATE broadcast
	graceEnd  time.Duration
	graceSet  bool          // a choose round is scheduled for graceEnd
	spare     float64       // bytes of spare upload saved up (spend)
	spareAt   time.Duration // when spare was last brought up to date
	spareSet  bool
}

type neighbour struct {
	id      PeerID
	hash    uint32
	state   []StripeState
	upload  int64
	consume bool
	lists   bool          // takes PLAYLIST messages
	failed  int           // consecutive failures as an upstream
	retryAt time.Duration // not chosen as upstream before
	slot    int           // index of its HAVE bits in each segment's haves
	heard   time.Duration // when it last sent anything
	pingAt  time.Duration // when it was last pinged for silence (liveness.go)
}

type upstream struct {
	peer    PeerID
	pending bool
	root    bool
	late    int
	stop    func()
	mergeAt time.Duration // a root with a subtree may join any tree from then (mayMerge); 0 = not waiting
	// climb is a shallower neighbour asked to take over (climbing), until
	// it answers or climbStop's timer fires; climbAt: no new climb before.
	climb     PeerID
	next      PeerID // accepted the climb while a segment was in flight: takes over when it is complete
	climbStop func()
	climbAt   time.Duration
}

// New returns an engine; it does nothing until told of neighbours and segments.
func New(cfg Config, clk Clock, tr Transport, src Source, pl Player) *Engine {
	cfg.defaults()
	e := &Engine{cfg: cfg, clk: clk, tr: tr, src: src, pl: pl, self: Hash(cfg.Self),
		rng: rand.New(rand.NewPCG(cfg.Seed, uint64(Hash(cfg.Self)))), homeK: -1,
		nbrs: map[PeerID]*neighbour{}, segs: map[string]*segment{}, bitrate: float64(cfg.Bitrate), capRate: float64(cfg.Bitrate),
		up: make([]upstream, cfg.Stripes), children: make([]peerSet, cfg.Stripes)}
	e.watch, _ = pl.(StripeWatcher)
	return e
}

// Hash is the short id of a peer used in tree paths.
func Hash(id PeerID) uint32 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(id))
	x := h.Sum32() // murmur3's finalizer: similar ids get unrelated hashes
	x ^= x >> 16
	x *= 0x85ebca6b
	x ^= x >> 13
	x *= 0xc2b2ae35
	return x ^ x>>16
}

// Stats returns the counters.
func (e *Engine) Stats() Stats {
	s := e.stats
	s.Children = e.nchild
	for _, u := range e.up {
		if u.root {
			s.Roots++
		}
	}
	return s
}

// Upstream returns the peer feeding stripe k ("" for none) and whether this
// peer is a root of it.
func (e *Engine) Upstream(k int) (PeerID, bool) { return e.up[k].peer, e.up[k].root }

func (e *Engine) send(to PeerID, m *Message) bool {
	ok := e.tr.Send(to, m)
	if ok {
		if m.Type == TPiece {
			e.stats.BytesUploaded += int64(len(m.Data))
			e.stats.ControlSent += int64(m.WireSize() - len(m.Data))
		} else {
			e.stats.ControlSent += int64(m.WireSize())
		}
	}
	return ok
}

// AddNeighbour tells the engine a link to id is open.
func (e *Engine) AddNeighbour(id PeerID) {
	if e.cfg.CDNOnly || id == e.cfg.Self || e.nbrs[id] != nil {
		return
	}
	e.nbrs[id] = &neighbour{id: id, hash: Hash(id), slot: e.takeSlot()}
	e.nbrIDs.add(id)
	e.syncList()
	var flags uint8
	if e.cfg.ConsumeOnly {
		flags |= FlagConsumeOnly
	}
	if e.cfg.SharePlaylists {
		flags |= FlagPlaylists
	}
	e.send(id, &Message{Type: THello, Upload: uint32(e.uploadCap() >> 10), Flags: flags})
	st := e.myState()
	e.send(id, &st)
}

// RemoveNeighbour tells the engine the link to id is gone.
func (e *Engine) RemoveNeighbour(id PeerID) {
	n := e.nbrs[id]
	if n == nil {
		return
	}
	e.forget(n.hash)
	e.freeSlot(n)
	if e.lastNbr == n {
		e.lastNbr = nil
	}
	delete(e.nbrs, id)
	e.nbrIDs.del(id)
	e.syncList()
	for k := range e.children {
		if e.children[k].del(id) {
			e.nchild--
			e.markDirty()
		}
		if e.up[k].climb == id || e.up[k].next == id {
			e.stopClimb(k)
		}
		if e.up[k].peer == id {
			e.dropUpstream(k)
		}
	}
}

// OnMessage handles a decoded message from a neighbour. It returns an error
// when the peer broke the rules; the host should then drop it.
func (e *Engine) OnMessage(from PeerID, m *Message) error {
	n := e.lastNbr
	if n == nil || n.id != from {
		n = e.nbrs[from]
		e.lastNbr = n
	}
	if n == nil {
		return nil // raced with removal
	}
	n.heard = e.clk.Now()
	if int(m.Stripe) >= e.cfg.Stripes && (m.Type >= TSubscribe && m.Type <= TReject || m.Type == TPiece || m.Type == TRequest) {
		return ErrWire
	}
	switch m.Type {
	case THello:
		n.upload, n.consume, n.lists = int64(m.Upload)<<10, m.Flags&FlagConsumeOnly != 0, m.Flags&FlagPlaylists != 0
	case TState:
		e.onState(n, m)
	case TSubscribe:
		e.onSubscribe(n, int(m.Stripe))
	case TUnsubscribe:
		if e.children[m.Stripe].del(from) {
			e.nchild--
			e.markDirty()
		}
	case TAccept:
		e.onAccept(n, int(m.Stripe))
	case TReject:
		if u := &e.up[m.Stripe]; u.climb == from || u.next == from {
			e.pause(n)
			e.stopClimb(int(m.Stripe))
		} else if u.peer == from {
			// Full, or re-parenting itself: not a failure. Try others first,
			// and this one again after a jittered pause (two peers refusing
			// each other must not retry in lockstep).
			e.pause(n)
			root := u.root
			e.dropUpstream(int(m.Stripe))
			if root && e.up[m.Stripe].peer == "" {
				e.up[m.Stripe].root = true
			}
		}
	case THave:
		if s := e.segs[m.Seg]; s != nil {
			e.setSize(s, int64(m.Size))
			s.setHave(n, m.Have)
			e.leafPull(n, s)
		}
	case TRequest:
		e.onRequest(n, m)
	case TPiece:
		return e.onPiece(n, m)
	case TPing:
		e.send(from, &Message{Type: TPong, Nonce: m.Nonce})
	case TPlaylist:
		e.onPlaylist(n, m)
	}
	return nil
}

// neighbours returns the neighbours in id order (do not keep the slice).
func (e *Engine) neighbours() []*neighbour { return e.nbrList }

// syncList rebuilds nbrList after a neighbour came or went.
func (e *Engine) syncList() {
	e.nbrList = e.nbrList[:0]
	for _, id := range e.nbrIDs {
		e.nbrList = append(e.nbrList, e.nbrs[id])
	}
}
