// Package transport links peers with WebRTC DataChannels (pion/webrtc v4):
// one PeerConnection and one ordered, reliable DataChannel per neighbour,
// set up by trickle ICE through a Signaler (the tracker's signal messages).
// It knows nothing of the engine: bytes in, bytes out, links up and down.
package transport

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"
)

// Errors.
var (
	ErrClosed    = errors.New("transport: network closed")
	ErrBadSignal = errors.New("transport: bad signal")
	ErrFull      = errors.New("transport: link limit reached")
)

// Signal is what two peers exchange through the tracker to open a link
// (docs/PROTOCOL.md, "Link set-up").
type Signal struct {
	Type      string                   `json:"type"` // offer, answer, candidate, bye
	Conn      uint64                   `json:"conn"` // link attempt, chosen by the offerer
	SDP       string                   `json:"sdp,omitempty"`
	Candidate *webrtc.ICECandidateInit `json:"candidate,omitempty"`
}

// Signaler delivers a Signal to a peer (through the tracker).
type Signaler interface {
	Signal(to string, s Signal) error
}

// Handler receives link events. Callbacks come from pion's goroutines; Open
// comes before any Message of a link and Closed once after its Open.
type Handler struct {
	Open    func(id string)
	Message func(id string, b []byte)
	Closed  func(id string)
}

// Config of a Network. Zero values take the defaults noted.
type Config struct {
	Self       string
	ICEServers []webrtc.ICEServer // STUN/TURN for real networks
	RelayOnly  bool               // only TURN relay candidates (hides viewers' addresses)
	// Loopback keeps ICE on 127.0.0.1 (tests, the demo): loopback candidates,
	// lo only, UDP4, no mDNS.
	Loopback bool
	// UDP is the address of the one UDP socket all links share (ICE UDP
	// mux); default 127.0.0.1:0 with Loopback, else 0.0.0.0:0.
	UDP          string
	MaxLinks     int           // default 30
	SetupTimeout time.Duration // a link not open by then is dropped; default 10s
	HighWater    uint64        // bytes queued on a link past which Send refuses; default 4 MiB
	// Upload, bytes/s: when > 0 every send is paced at this rate, and
	// SendFirst's messages go before the others (uplink.go); 0: each send
	// goes straight to its link, the links sharing the line as it goes.
	Upload int64
	Accept func(peer string) bool // offers from a peer it refuses are answered "bye"; nil: all
	Logger *slog.Logger
}

func (c *Config) defaults() {
	if c.MaxLinks <= 0 {
		c.MaxLinks = 30
	}
	if c.SetupTimeout <= 0 {
		c.SetupTimeout = 10 * time.Second
	}
	if c.HighWater == 0 {
		c.HighWater = 4 << 20
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Stats are a Network's counters.
type Stats struct {
	Links        int     `json:"links"`
	Attempts     int64   `json:"link_attempts"`
	Opened       int64   `json:"links_opened"`
	Failed       int64   `json:"link_failures"`   // never opened (timeout, ICE failure, refused)
	SetupMeanMS  float64 `json:"link_setup_ms"`   // mean time from offer to open
	Relayed      int64   `json:"links_relayed"`   // opened through a TURN relay (this side's candidate)
	Refused      int64   `json:"sends_refused"`   // Send over the high-water mark or on a closed link
	WireSent     int64   `json:"wire_bytes_sent"` // UDP payload bytes, everything (ICE, DTLS, SCTP)
	WireReceived int64   `json:"wire_bytes_received"`
}

// Network is this peer's set of links.
type Network struct {
	cfg   Config
	sig   Signaler
	h     Handler
	api   *webrtc.API
	wire  wireCounters
	stop  func()
	up    *uplink // Config.Upload's pacer, or nil
	upEnd func()  // stops up's sender and waits for it

	mu     sync.Mutex
	links  map[string]*link
	early  map[string]*early // candidates that came before their offer (early.go)
	nextID uint64
	closed bool

	attempts, opened, failed, refused atomic.Int64
	relayed                           atomic.Int64
	setupNanos                        atomic.Int64
}

// New opens the UDP socket and returns a Network.
func New(cfg Config, sig Signaler, h Handler) (*Network, error) {
	cfg.defaults()
	n := &Network{cfg: cfg, sig: sig, h: h, links: map[string]*link{}, early: map[string]*early{}, nextID: uint64(time.Now().UnixNano())}
	if err := n.setup(); err != nil {
		return nil, err
	}
	if cfg.Upload > 0 {
		n.up = newUplink(cfg.Upload, cfg.HighWater, n.sendNow)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			n.up.run(ctx)
		}()
		n.upEnd = func() { cancel(); <-done }
	}
	return n, nil
}

// Stats returns the counters.
func (n *Network) Stats() Stats {
	n.mu.Lock()
	links := 0
	for _, l := range n.links {
		if l.isOpen() {
			links++
		}
	}
	n.mu.Unlock()
	s := Stats{Links: links, Attempts: n.attempts.Load(), Opened: n.opened.Load(), Failed: n.failed.Load(),
		Refused: n.refused.Load(), Relayed: n.relayed.Load()}
	if s.Opened > 0 {
		s.SetupMeanMS = float64(n.setupNanos.Load()) / float64(s.Opened) / 1e6
	}
	s.WireSent, s.WireReceived = n.wire.sent.Load(), n.wire.recv.Load()
	return s
}

// Has reports whether a link to id exists (open or being set up).
func (n *Network) Has(id string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.links[id] != nil
}

// Count is the number of links, open or being set up.
func (n *Network) Count() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.links)
}

// Connect starts a link to id as the offerer; a no-op if one exists.
func (n *Network) Connect(id string) error {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return ErrClosed
	}
	if n.links[id] != nil || id == n.cfg.Self {
		n.mu.Unlock()
		return nil
	}
	if len(n.links) >= n.cfg.MaxLinks {
		n.mu.Unlock()
		return ErrFull
	}
	n.nextID++
	l := n.newLink(id, n.nextID, true)
	n.links[id] = l
	n.mu.Unlock()
	n.attempts.Add(1)
	if err := l.offer(); err != nil {
		n.drop(l, err)
		return err
	}
	return nil
}

// OnSignal handles a signal relayed from peer from.
func (n *Network) OnSignal(from string, data json.RawMessage) error {
	var s Signal
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("%w: %w", ErrBadSignal, err)
	}
	switch s.Type {
	case "offer":
		return n.onOffer(from, s)
	case "answer", "candidate":
		l := n.get(from, s.Conn)
		if l == nil {
			if s.Type == "candidate" && s.Candidate != nil {
				n.mu.Lock()
				n.keepEarly(from, s.Conn, *s.Candidate) // before its offer, or an old attempt's
				n.mu.Unlock()
			}
			return nil
		}
		var err error
		if s.Type == "answer" {
			err = l.answered(s.SDP)
		} else if s.Candidate != nil {
			err = l.candidate(*s.Candidate)
		}
		if err != nil {
			n.drop(l, err)
		}
		return err
	case "bye":
		if l := n.get(from, s.Conn); l != nil {
			n.drop(l, errors.New("refused by the peer"))
		}
		return nil
	}
	return fmt.Errorf("%w: type %q", ErrBadSignal, s.Type)
}

func (n *Network) onOffer(from string, s Signal) error {
	if s.SDP == "" {
		return fmt.Errorf("%w: offer without sdp", ErrBadSignal)
	}
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return ErrClosed
	}
	old := n.links[from]
	if old != nil && old.offerer && !old.isOpen() && n.cfg.Self < from {
		n.mu.Unlock()
		return nil // glare: both offered; the smaller id's offer wins
	}
	if old == nil && len(n.links) >= n.cfg.MaxLinks || n.cfg.Accept != nil && !n.cfg.Accept(from) {
		n.mu.Unlock()
		_ = n.sig.Signal(from, Signal{Type: "bye", Conn: s.Conn})
		return ErrFull
	}
	l := n.newLink(from, s.Conn, false)
	l.pending = n.takeEarly(from, s.Conn)
	n.links[from] = l
	n.mu.Unlock()
	if old != nil {
		old.close() // replaced: their newer attempt, or glare lost
		n.closedLink(old, errors.New("replaced"))
	}
	n.attempts.Add(1)
	if err := l.answer(s.SDP); err != nil {
		n.drop(l, err)
		return err
	}
	return nil
}

func (n *Network) get(id string, conn uint64) *link {
	n.mu.Lock()
	defer n.mu.Unlock()
	if l := n.links[id]; l != nil && l.conn == conn {
		return l
	}
	return nil
}

// Send queues b on the link to id; false if the link is not open or holds
// more than HighWater bytes not yet sent (pacing). b is copied: the caller
// may reuse it.
func (n *Network) Send(id string, b []byte) bool { return n.queue(id, b, false) }

// SendFirst is Send for a message that goes before the others when the
// upload is paced (Config.Upload): a push to a child that forwards it.
func (n *Network) SendFirst(id string, b []byte) bool { return n.queue(id, b, true) }

func (n *Network) queue(id string, b []byte, first bool) bool {
	n.mu.Lock()
	l := n.links[id]
	n.mu.Unlock()
	switch {
	case l == nil:
	case n.up == nil:
		return n.sendNow(l, b)
	case l.isOpen() && n.up.push(l, b, first):
		return true
	}
	n.refused.Add(1)
	return false
}

// sendNow puts b on l's DataChannel.
func (n *Network) sendNow(l *link, b []byte) bool {
	if !l.send(b, n.cfg.HighWater) {
		n.refused.Add(1)
		return false
	}
	return true
}

// Disconnect closes the link to id, telling the peer.
func (n *Network) Disconnect(id string) {
	n.mu.Lock()
	l := n.links[id]
	n.mu.Unlock()
	if l != nil {
		n.drop(l, errors.New("disconnected"))
	}
}

// Close closes every link (the peers see their DataChannels close at once)
// and the UDP socket.
func (n *Network) Close() error {
	n.mu.Lock()
	n.closed = true
	links := n.links
	n.links = map[string]*link{}
	n.mu.Unlock()
	var wg sync.WaitGroup
	for _, l := range links {
		wg.Go(func() {
			l.close()
			n.closedLink(l, ErrClosed)
		})
	}
	wg.Wait()
	if n.upEnd != nil {
		n.upEnd()
	}
	if n.stop != nil {
		n.stop()
	}
	return nil
}

// drop removes l (if still current), closes it and reports it.
func (n *Network) drop(l *link, why error) {
	n.mu.Lock()
	if n.links[l.peer] == l {
		delete(n.links, l.peer)
	}
	n.mu.Unlock()
	if n.up != nil {
		n.up.forget(l)
	}
	go func() {
		l.close()
		n.closedLink(l, why)
	}()
}

// closedLink reports a link's end once: Closed if it had opened, else a failure.
func (n *Network) closedLink(l *link, why error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ended {
		return
	}
	l.ended = true
	if l.opened {
		n.cfg.Logger.Debug("link closed", "peer", l.peer, "why", why)
		if n.h.Closed != nil {
			n.h.Closed(l.peer)
		}
		return
	}
	n.failed.Add(1)
	n.cfg.Logger.Debug("link failed", "peer", l.peer, "why", why)
}

// SetSelf changes this peer's id (the tracker gives a new one after a
// reconnect); it settles which offer wins when two peers offer at once.
func (n *Network) SetSelf(id string) {
	n.mu.Lock()
	n.cfg.Self = id
	n.mu.Unlock()
}

// wireCounters count the UDP bytes of every link (native builds).
type wireCounters struct{ sent, recv atomic.Int64 }

func (n *Network) rtcConfig() webrtc.Configuration {
	c := webrtc.Configuration{ICEServers: n.cfg.ICEServers}
	if n.cfg.RelayOnly {
		c.ICETransportPolicy = webrtc.ICETransportPolicyRelay
	}
	return c
}
