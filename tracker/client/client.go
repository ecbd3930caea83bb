// Package client is a viewer's connection to the p2phls tracker (signaling
// v1, docs/PROTOCOL.md): join a swarm, relay signals, ask for peers, report
// stats; it reconnects with backoff and joins again when the connection or the
// tracker node goes away. It imports no server code, so it stays small in a
// wasm build.
package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/p2phls/p2phls/internal/tick"
)

// ErrNotConnected is returned when a message cannot be sent now.
var ErrNotConnected = errors.New("tracker client: not connected")

// Stats are the cumulative counters reported to the tracker.
type Stats struct {
	BytesCDN      int64 `json:"bytes_cdn"`
	BytesP2P      int64 `json:"bytes_p2p"`
	BytesUploaded int64 `json:"bytes_uploaded"`
	Stalls        int64 `json:"stalls"`
}

// Config of a Client.
type Config struct {
	URL       string // ws://host:port/v1/ws
	Swarm     string
	Token     string
	Playlist  string // the media playlist this peer plays: the tracker's integrity service checks it
	UploadCap int64  // bytes/s, declared at join
	// Joined is called on every (re)join with this peer's id (new after a
	// reconnect) and the tracker's first peers, best first.
	Joined  func(self string, peers []string)
	Peers   func(peers []string) // answers to Peers
	Signal  func(from string, data json.RawMessage)
	Dropped func(err error) // the connection ended; Run reconnects
	StatsFn func() Stats    // sampled every heartbeat and sent
	// Integrity is told, at every (re)join, whether the swarm's segments
	// have published digests (the peer must then check every piece).
	Integrity func(on bool)
	// Digests delivers one segment's block digests (integrity service).
	Digests func(d Digests)
	Backoff time.Duration // first reconnect delay, default 250ms (doubling to 8s)
	Logger  *slog.Logger
}

// Digests are one segment's block digests, as the tracker publishes them.
type Digests struct {
	Segment string     // hls.ContentKey of the segment: "{seq}/{path}[@start+len]"
	Size    int64      // bytes
	Stripes int        // the stripe count they were cut for
	Sums    [][32]byte // SHA-256 of every block, stripe by stripe
}

type msg struct {
	Type      string          `json:"type"`
	Swarm     string          `json:"swarm,omitempty"`
	Token     string          `json:"token,omitempty"`
	To        string          `json:"to,omitempty"`
	From      string          `json:"from,omitempty"`
	Data      json.RawMessage `json:"data,omitempty"`
	Size      int             `json:"size,omitempty"`
	Stats     *Stats          `json:"stats,omitempty"`
	UploadCap int64           `json:"upload_capacity,omitempty"`
	Playlist  string          `json:"playlist,omitempty"`
	Reason    string          `json:"reason,omitempty"`
	// tracker → client
	Integrity bool     `json:"integrity,omitempty"`
	Segment   string   `json:"segment,omitempty"`
	Stripes   int      `json:"stripes,omitempty"`
	Sums      []byte   `json:"sums,omitempty"` // base64 in JSON
	Version   int      `json:"version,omitempty"`
	Peer      string   `json:"peer,omitempty"`
	Peers     []string `json:"peers,omitempty"`
	Code      string   `json:"code,omitempty"`
	Message   string   `json:"message,omitempty"`
}

// ErrBanned: the tracker banned this peer (reported for bad data by several).
var ErrBanned = errors.New("tracker client: banned")

// closeBanned is the tracker's close code for a banned peer.
const closeBanned = 4003

// BannedWait is how long a banned client waits before it joins again.
const BannedWait = 10 * time.Minute

// Client is one viewer's tracker connection.
type Client struct {
	cfg Config
	mu  sync.Mutex
	c   *websocket.Conn
	id  string
}

// New returns a Client; Run connects it.
func New(cfg Config) *Client {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = 250 * time.Millisecond
	}
	return &Client{cfg: cfg}
}

// ID is this peer's current id ("" while not joined).
func (c *Client) ID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.id
}

// Run keeps the client joined until ctx ends, then leaves.
func (c *Client) Run(ctx context.Context) error {
	backoff := c.cfg.Backoff
	for {
		start := time.Now()
		err := c.session(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		c.cfg.Logger.Warn("tracker connection lost", "url", c.cfg.URL, "err", err)
		if c.cfg.Dropped != nil {
			c.cfg.Dropped(err)
		}
		if time.Since(start) > 30*time.Second {
			backoff = c.cfg.Backoff
		}
		if errors.Is(err, ErrBanned) {
			backoff = BannedWait // rejoining at once would only be banned again
		}
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return ctx.Err()
		}
		backoff = min(2*backoff, 8*time.Second)
	}
}

// session is one connection: join, then read until it breaks.
func (c *Client) session(ctx context.Context) error {
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	ws, _, err := websocket.Dial(dctx, c.cfg.URL, nil)
	cancel()
	if err != nil {
		return fmt.Errorf("tracker client: dial: %w", err)
	}
	ws.SetReadLimit(1 << 20)
	defer ws.CloseNow()
	c.mu.Lock()
	c.c = ws
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.c, c.id = nil, ""
		c.mu.Unlock()
	}()
	if err := c.write(ctx, ws, msg{Type: "join", Swarm: c.cfg.Swarm, Token: c.cfg.Token, UploadCap: c.cfg.UploadCap, Playlist: c.cfg.Playlist}); err != nil {
		return err
	}
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	go c.statsLoop(sctx, ws)
	for {
		_, b, err := ws.Read(ctx)
		if err != nil {
			if ctx.Err() != nil {
				c.leave(ws)
			}
			if websocket.CloseStatus(err) == closeBanned {
				return fmt.Errorf("%w (connection closed)", ErrBanned)
			}
			return fmt.Errorf("tracker client: read: %w", err)
		}
		var m msg
		if err := json.Unmarshal(b, &m); err != nil {
			c.cfg.Logger.Warn("tracker sent bad JSON", "err", err)
			continue
		}
		if err := c.handle(m); err != nil {
			return err
		}
	}
}

func (c *Client) handle(m msg) error {
	switch m.Type {
	case "joined":
		c.mu.Lock()
		c.id = m.Peer
		c.mu.Unlock()
		c.cfg.Logger.Info("joined swarm", "swarm", c.cfg.Swarm, "peer", m.Peer, "peers", len(m.Peers))
		if c.cfg.Integrity != nil {
			c.cfg.Integrity(m.Integrity)
		}
		if c.cfg.Joined != nil {
			c.cfg.Joined(m.Peer, m.Peers)
		}
	case "digests":
		c.digests(m)
	case "peers":
		if c.cfg.Peers != nil {
			c.cfg.Peers(m.Peers)
		}
	case "signal":
		if c.cfg.Signal != nil && m.From != "" {
			c.cfg.Signal(m.From, m.Data)
		}
	case "shutdown":
		return fmt.Errorf("tracker client: node shutting down: %s", m.Message)
	case "error":
		c.cfg.Logger.Warn("tracker error", "code", m.Code, "message", m.Message)
		if m.Code == "banned" {
			return fmt.Errorf("%w: %s", ErrBanned, m.Message)
		}
		if m.Code == "bad_token" || m.Code == "unavailable" {
			return fmt.Errorf("tracker client: join refused: %s: %s", m.Code, m.Message)
		}
	}
	return nil
}

func (c *Client) digests(m msg) {
	if c.cfg.Digests == nil {
		return
	}
	if m.Segment == "" || m.Size <= 0 || m.Stripes <= 0 || len(m.Sums) == 0 || len(m.Sums)%32 != 0 {
		c.cfg.Logger.Warn("tracker sent malformed digests", "segment", m.Segment)
		return
	}
	d := Digests{Segment: m.Segment, Size: int64(m.Size), Stripes: m.Stripes, Sums: make([][32]byte, len(m.Sums)/32)}
	for i := range d.Sums {
		copy(d.Sums[i][:], m.Sums[32*i:])
	}
	c.cfg.Digests(d)
}

// Report tells the tracker a peer sent bad data (it bans peers reported by several).
func (c *Client) Report(peer, reason string) error {
	return c.send(msg{Type: "report", Peer: peer, Reason: reason})
}

func (c *Client) statsLoop(ctx context.Context, ws *websocket.Conn) {
	if c.cfg.StatsFn == nil {
		return
	}
	tick.Every(ctx, 2*time.Second, func() {
		if c.ID() != "" {
			s := c.cfg.StatsFn()
			_ = c.write(ctx, ws, msg{Type: "stats", Stats: &s, UploadCap: c.cfg.UploadCap})
		}
	})
}

func (c *Client) leave(ws *websocket.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = c.write(ctx, ws, msg{Type: "leave"})
	_ = ws.Close(websocket.StatusNormalClosure, "leaving")
}

func (c *Client) write(ctx context.Context, ws *websocket.Conn, m msg) error {
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("tracker client: encode: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return ws.Write(ctx, websocket.MessageText, b)
}

func (c *Client) send(m msg) error {
	c.mu.Lock()
	ws, id := c.c, c.id
	c.mu.Unlock()
	if ws == nil || id == "" {
		return ErrNotConnected
	}
	return c.write(context.Background(), ws, m)
}

// Signal relays data to peer to.
func (c *Client) Signal(to string, data any) error {
	b, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("tracker client: encode signal: %w", err)
	}
	return c.send(msg{Type: "signal", To: to, Data: b})
}

// AskPeers asks for up to size peers; the answer comes to Config.Peers.
func (c *Client) AskPeers(size int) error { return c.send(msg{Type: "peers", Size: size}) }
