package sim

import (
	"time"

	"github.com/p2phls/p2phls/engine"
)

// Class is a share of the viewers with one kind of connection.
type Class struct {
	Share       float64 `json:"share"`
	Upload      float64 `json:"upload_x"` // upload capacity in multiples of the stream rate
	Unreachable bool    `json:"unreachable"`
	ConsumeOnly bool    `json:"consume_only"`
}

// Config of a simulation. Zero values take the defaults noted.
type Config struct {
	Peers        int           `json:"peers"`
	Duration     time.Duration `json:"duration"`      // of stream, after the joins start
	Segment      time.Duration `json:"segment"`       // default 2s
	Bitrate      int64         `json:"bitrate"`       // stream bytes/s, default 250,000 (2 Mbit/s)
	Stripes      int           `json:"stripes"`       // default 4
	RTT          time.Duration `json:"rtt"`           // between peers, default 20ms
	Jitter       time.Duration `json:"jitter"`        // added 0..Jitter one way
	Loss         float64       `json:"loss"`          // a lost packet costs one more RTT
	Download     float64       `json:"download_x"`    // download capacity ×rate, default 20
	Classes      []Class       `json:"classes"`       // default all at 2× upload
	ChurnPerMin  float64       `json:"churn_per_min"` // share of viewers replaced each minute
	JoinOver     time.Duration `json:"join_over"`     // joins spread over this, default 20s
	Neighbours   int           `json:"neighbours"`    // links asked of the tracker, default 12
	MaxConns     int           `json:"max_conns"`     // links a peer accepts, default 30
	CDNRTT       time.Duration `json:"cdn_rtt"`       // default 40ms
	CDNRate      float64       `json:"cdn_rate"`      // bytes/s of one CDN response, default 2,500,000
	Seed         uint64        `json:"seed"`
	Sample       time.Duration `json:"sample"`        // timeline step, default 10s
	Verify       bool          `json:"verify"`        // compare every delivered segment with the origin's bytes
	ControlFirst bool          `json:"control_first"` // control messages skip the sender's media queue
	// FIFOUplink: a viewer's upload is one first-in first-out queue for all
	// its links (the model until session 25). By default it keeps a queue
	// per link and serves them in turn, a message at a time, as real links,
	// each one flow with its own buffer, share an uplink (uplink.go).
	FIFOUplink bool `json:"fifo_uplink,omitempty"`
	// PlainTurns: the per-link uplink serves every link in turn alike. By
	// default links whose next message is a push to a child that forwards
	// it (engine Message.Forward) go first, as the transport's paced uplink
	// sends them (transport/uplink.go).
	PlainTurns bool `json:"plain_turns,omitempty"`
	// SharePlaylists: a viewer learns of a segment from its upstream's
	// playlist (PLAYLIST down the tree of stripe seq mod K) when that comes
	// before its own refresh.
	SharePlaylists bool `json:"share_playlists"`
	// Utilization: share of each viewer's upload given to children
	// (engine.Config.Utilization; 0 = the engine's default).
	Utilization float64 `json:"utilization,omitempty"`
	MaxDepth    int     `json:"max_depth,omitempty"` // tree depth bound (engine.Config.MaxDepth; 0 = engine.DefaultMaxDepth)
	// Deadline: how long after a segment appears each viewer's player needs
	// it (engine.Config.Deadline; 0 = engine.DefaultDeadline).
	Deadline time.Duration `json:"deadline,omitempty"`
	// PieceSize: bytes per PIECE (engine.Config.PieceSize; 0 = the
	// engine's default). Each tree edge holds a piece before passing it on.
	PieceSize int `json:"piece_size,omitempty"`
	// LeafPull: a viewer that roots a stripe with no child in it pulls
	// that stripe from a neighbour's spare upload instead of the CDN
	// (engine.Config.LeafPull).
	LeafPull bool `json:"leaf_pull,omitempty"`
	// NoClimb: viewers keep their upstreams however deep (engine.Config.NoClimb).
	NoClimb bool `json:"no_climb,omitempty"`
	// RealMargins: viewers start CDN completions as long before the player's
	// turn as real peers do (engine MinMargin 0.5 s and ReloadLag, for a
	// player that learns of a segment at its next playlist reload: 1 s for
	// segments of 1 s and less, 1.5 s for 2 s ones). Off, only twice the
	// measured CDN time, for a player that sees a segment once it is ready.
	RealMargins bool `json:"real_margins,omitempty"`
	// StartWith: a viewer's player starts this many segments behind the live
	// edge (engine.Config.StartWith; 0: 3). hls.js holds back three target
	// durations: 6 segments of 0.5 s.
	StartWith int `json:"start_with,omitempty"`
	// PlayerReloads: a viewer's player sees a ready segment only at its next
	// playlist reload, once a segment duration, at a phase of its own (hls.js
	// reloads a changed live playlist after about a segment); off, it sees it
	// the moment it is ready. Both arms.
	PlayerReloads bool `json:"player_reloads,omitempty"`
	// PollOnly: viewers that root a stripe poll the playlist as the others
	// do. By default they ask for each next segment with a blocking reload
	// (peer: hls.FollowConfig.Eager, against an origin that offers them,
	// as p2phls origin does) and learn of it when the origin publishes it.
	PollOnly bool `json:"poll_only,omitempty"`
	// Parts: the viewers are split into this many parts, each with its own
	// event loop on its own goroutine (default 2, the cores of the machine
	// the figures were measured on). A seed replays exactly for a given
	// number of parts; another number is another draw of the same run.
	Parts   int `json:"parts"`
	cdnOnly bool
}

func (c *Config) defaults() {
	if c.Segment <= 0 {
		c.Segment = 2 * time.Second
	}
	if c.Bitrate <= 0 {
		c.Bitrate = 250_000
	}
	if c.Stripes <= 0 {
		c.Stripes = engine.DefaultStripes
	}
	if c.RTT <= 0 {
		c.RTT = 20 * time.Millisecond
	}
	if c.Download <= 0 {
		c.Download = 20
	}
	if len(c.Classes) == 0 {
		c.Classes = []Class{{Share: 1, Upload: 2}}
	}
	if c.JoinOver <= 0 {
		c.JoinOver = 20 * time.Second
	}
	if c.Neighbours <= 0 {
		c.Neighbours = 12
	}
	if c.MaxConns <= 0 {
		c.MaxConns = 30
	}
	if c.CDNRTT <= 0 {
		c.CDNRTT = 40 * time.Millisecond
	}
	if c.CDNRate <= 0 {
		c.CDNRate = 2_500_000
	}
	if c.Sample <= 0 {
		c.Sample = 10 * time.Second
	}
	if c.Duration <= 0 {
		c.Duration = time.Minute
	}
	if c.Parts <= 0 {
		c.Parts = DefaultParts
	}
	if c.RTT < 2*minLookahead {
		c.Parts = 1 // parts would wait on each other at every message
	}
}

// DefaultParts is Config.Parts' default.
const DefaultParts = 2

// minLookahead is the shortest one-way trip that lets parts run in parallel.
const minLookahead = time.Millisecond

// MixedClasses is the mixed population: 40 % at 2× the stream rate,
// 40 % at 0.7×, 20 % unreachable or consume-only.
func MixedClasses() []Class {
	return []Class{
		{Share: 0.4, Upload: 2},
		{Share: 0.4, Upload: 0.7},
		{Share: 0.1, Upload: 2, Unreachable: true},
		{Share: 0.1, ConsumeOnly: true},
	}
}
