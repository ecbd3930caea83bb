// Package peer runs one viewer of one rendition: the engine on its own
// goroutine, fed by the live playlist (hls.Follow), linked to other viewers
// by WebRTC (transport) through the tracker (tracker/client), fetching from
// the CDN (hls.Source), and holding the window of segments a player reads.
package peer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/p2phls/p2phls/engine"
	"github.com/p2phls/p2phls/hls"
	"github.com/p2phls/p2phls/internal/tick"
	"github.com/p2phls/p2phls/tracker/client"
	"github.com/p2phls/p2phls/transport"
)

// Errors.
var (
	ErrUnknownSegment = errors.New("peer: unknown segment")
	ErrGone           = errors.New("peer: segment could not be fetched")
	ErrClosed         = errors.New("peer: node stopped")
)

// Config of a Node. Zero values take the defaults noted.
type Config struct {
	Playlist    string   // media playlist URL
	Tracker     string   // ws://host/v1/ws; empty: CDN only
	Swarm       string   // default hls.SwarmID(Playlist)
	Token       string   // join token (trackers with --secret)
	Sources     []string // CDN servers in failover order; empty: the playlist's host
	Stripes     int      // default 4 (engine)
	MaxUpload   int64    // bytes/s; 0 = 4x the stream. Set, it also paces the links' sends (transport Config.Upload)
	ConsumeOnly bool
	CDNOnly     bool
	// SharePlaylists: playlists travel down the stripe trees; while they
	// keep this peer at the live edge and it roots no stripe, it polls the
	// CDN's playlist every 3 target durations only (hls.FollowConfig).
	SharePlaylists bool
	// LeafPull: a stripe this peer roots with no child in it is pulled
	// from neighbours' spare upload instead of the CDN (engine.Config).
	LeafPull bool
	// Deadline: how long after a segment appears the player needs it; 0 =
	// engine.DefaultDeadline (engine.Config).
	Deadline time.Duration
	// PieceSize: bytes per PIECE; 0 = the engine's default by the
	// segment's duration (16 KiB from 2 s, 4 KiB at 1 s). Each tree edge
	// holds a piece before passing it on, so smaller pieces shorten every
	// level (docs/BENCHMARKS.md, session 16).
	PieceSize int
	// Utilization: the share of MaxUpload given to children, which sets
	// how many this peer feeds; 0 = the engine's 0.8. More offload for more
	// delay (docs/BENCHMARKS.md, sessions 18–19: 0.875 suits segments of
	// 0.5 s).
	Utilization float64
	ICEServers  []webrtc.ICEServer
	RelayOnly   bool
	Loopback    bool          // ICE on 127.0.0.1 only (tests, demo)
	UDP         string        // the UDP socket's address
	Neighbours  int           // links this peer opens, default 12
	MaxLinks    int           // links accepted in all, default 30
	GiveUp      time.Duration // a segment not ready this long after its deadline is skipped; default 10s
	HTTPClient  hls.Doer      // default: hls.Source's
	// TestCorrupt makes this peer flip every byte of the media it sends to
	// other peers: a poisoner, for tests of integrity only.
	TestCorrupt bool
	Logger      *slog.Logger
}

func (c *Config) defaults() error {
	if c.Swarm == "" {
		id, err := hls.SwarmID(c.Playlist)
		if err != nil {
			return err
		}
		c.Swarm = id
	}
	if c.Neighbours <= 0 {
		c.Neighbours = 12
	}
	if c.MaxLinks <= 0 {
		c.MaxLinks = 30
	}
	if c.GiveUp <= 0 {
		c.GiveUp = 10 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// rootGrace: links open in about a second on loopback, a few on real
// networks; until then a newcomer does not fetch stripes as their root.
const rootGrace = 3 * time.Second

// minMargin: the CDN completion starts at least this long before the
// player's turn for the fetch, and the player's reload period before that
// (engine ReloadLag: a player learns of a segment only at its next playlist
// reload, every half target duration): 1.5 s in all for 2 s segments, 1 s
// for segments of 1 s and less. Until session 20 it was 1.5 s for every
// duration, which left 0.5 s segments 0.24 s for their peers.
const minMargin = 500 * time.Millisecond

// Node is one viewer of one rendition.
type Node struct {
	cfg Config
	log *slog.Logger
	r   *reactor
	clk *clock
	eng *engine.Engine
	src *hls.Source
	net *transport.Network
	tc  *client.Client

	mu        sync.Mutex
	win       window
	changed   chan struct{} // closed and replaced when a segment becomes ready
	delays    []time.Duration
	ages      []time.Duration // publication → ready, where the playlist dates segments
	stalls    int64
	direct    int64 // bytes fetched for the player outside the engine (init sections, old segments)
	engSt     engine.Stats
	playlists int                       // playlists fetched; the first one's segments start the window
	startSeq  int64                     // the first playlist's segments before this are not played
	banned    map[string]time.Time      // peers that broke the rules, until
	sendBuf   []byte                    // encoding buffer, reused: touched on the reactor only
	pending   map[string]client.Digests // digests for segments not listed yet, by content key
	raw       []byte                    // the last playlist fetched, as the origin wrote it
	media     *hls.Media                // raw, parsed
	shared    chan hls.Shared           // playlists from upstreams (SharePlaylists)
	newest    int64                     // newest segment of the last playlist passed on
	links     atomic.Int32              // links this node opens to now (linkTarget)
}

// New builds a node; Run starts it.
func New(cfg Config) (*Node, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	n := &Node{cfg: cfg, log: cfg.Logger, r: newReactor(), changed: make(chan struct{}), newest: -1}
	n.links.Store(int32(cfg.Neighbours))
	if cfg.SharePlaylists {
		n.shared = make(chan hls.Shared, 8)
	}
	n.clk = &clock{start: time.Now(), r: n.r}
	n.src = hls.NewSource(hls.SourceConfig{Servers: cfg.Sources, Client: cfg.HTTPClient, Logger: n.log})
	self := engine.PeerID(fmt.Sprintf("local-%d", time.Now().UnixNano()))
	n.eng = engine.New(engine.Config{Self: self, Stripes: cfg.Stripes, UploadCap: cfg.MaxUpload,
		ConsumeOnly: cfg.ConsumeOnly, CDNOnly: cfg.CDNOnly || cfg.Tracker == "", RootGrace: rootGrace,
		MinMargin: minMargin, ReloadLag: true, AwaitPlayer: true, SharePlaylists: cfg.SharePlaylists, LeafPull: cfg.LeafPull, Deadline: cfg.Deadline,
		PieceSize: cfg.PieceSize, Utilization: cfg.Utilization},
		n.clk, (*engineTransport)(n), (*engineSource)(n), (*enginePlayer)(n))
	if cfg.Tracker != "" && !cfg.CDNOnly {
		if err := n.startP2P(); err != nil {
			return nil, err
		}
	}
	return n, nil
}

// Run follows the playlist and serves the swarm until ctx ends, then leaves
// cleanly: the tracker is told, every link is closed (children see it at
// once and re-attach elsewhere).
func (n *Node) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	stop := make(chan struct{})
	go n.r.run(stop)
	var wg sync.WaitGroup
	if n.tc != nil {
		wg.Go(func() { _ = n.tc.Run(ctx) })
		wg.Go(func() { tick.Every(ctx, 3*time.Second, n.morePeers) })
	}
	wg.Go(func() { tick.Every(ctx, 500*time.Millisecond, n.copyStats) })
	err := hls.Follow(ctx, hls.FollowConfig{URL: n.cfg.Playlist, Source: n.src, Logger: n.log,
		OnMedia: n.onMedia, OnSegment: n.onSegment, Shared: n.shared, OnShared: n.onShared, Relaxed: n.relaxed,
		Eager: n.roots})
	if err == nil { // ENDLIST: keep serving until stopped
		<-ctx.Done()
	}
	cancel()
	if n.net != nil {
		_ = n.net.Close()
	}
	wg.Wait()
	close(stop)
	<-n.r.done
	n.mu.Lock()
	close(n.changed)
	n.changed = nil
	n.mu.Unlock()
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

func (n *Node) onMedia(m *hls.Media, raw []byte) {
	n.mu.Lock()
	n.raw, n.media = forPlayer(raw), m
	n.playlists++
	if n.playlists == 1 {
		if i := n.eng.StartIndex(len(m.Segments)); i < len(m.Segments) {
			n.startSeq = m.Segments[i].Seq
		}
	}
	n.win.target, n.win.ended = m.TargetDuration, m.Endlist
	n.mu.Unlock()
	n.passOn(m, raw, true)
}

// onSegment takes a new segment from the playlist into the window and the engine.
func (n *Node) onSegment(it hls.Item) {
	n.mu.Lock()
	if it.Epoch == 0 && it.Seq < n.startSeq {
		n.mu.Unlock()
		return // older than where the engine starts (the first playlist's tail)
	}
	e := n.win.add(it, time.Now())
	e.initial = n.playlists == 1
	n.mu.Unlock()
	if it.Gap {
		n.mu.Lock()
		n.win.markGone(e)
		n.mu.Unlock()
		return
	}
	n.mu.Lock()
	d, ok := n.pendingDigests(it)
	n.mu.Unlock()
	n.r.post(func() {
		n.eng.OnSegment(engine.SegmentInfo{ID: it.ID, URL: it.URL, Seq: it.Seq, Duration: it.Duration, Available: n.clk.Now()})
	})
	if ok {
		n.applyDigests(it.ID, d)
	}
	time.AfterFunc(n.eng.Deadline(it.Duration)+n.cfg.GiveUp, func() { n.giveUp(e) })
}

func (n *Node) giveUp(e *entry) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !e.ready && !e.gone && slices.Contains(n.win.entries, e) {
		n.log.Error("segment given up: not fetched in time", "segment", e.item.ID)
		n.win.markGone(e)
		n.stalls++
		n.notify()
	}
}

// notify wakes whoever waits for the window to change. Under n.mu.
func (n *Node) notify() {
	if n.changed != nil {
		close(n.changed)
		n.changed = make(chan struct{})
	}
}

// ready is the engine's delivery of a complete segment.
func (n *Node) ready(info engine.SegmentInfo, data [][]byte) {
	var size int
	for _, p := range data {
		size += len(p)
	}
	b := make([]byte, 0, size)
	for _, p := range data {
		b = append(b, p...)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	e := n.win.byID(info.ID)
	if e == nil || e.ready {
		return
	}
	if e.gone { // came after all: list it again
		e.gone = false
	}
	e.ready, e.data = true, b
	d := time.Since(e.appear)
	if d > n.eng.Deadline(e.item.Duration) { // a player this far behind live would have stalled
		n.stalls++
	}
	if !e.initial { // the first playlist's segments are behind live by design
		n.delays = keepLast(append(n.delays, d))
		if dt := e.item.DateTime; dt != nil {
			n.ages = keepLast(append(n.ages, time.Since(dt.Add(e.item.Duration))))
		}
	}
	n.notify()
}
