package transport

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"
)

// link is one PeerConnection with its DataChannel.
type link struct {
	n       *Network
	peer    string
	conn    uint64
	offerer bool
	started time.Time
	pc      *webrtc.PeerConnection
	timer   *time.Timer

	mu        sync.Mutex
	dc        *webrtc.DataChannel
	opened    bool
	ended     bool
	remoteSet bool
	closing   bool
	pending   []webrtc.ICECandidateInit // candidates before the remote description
}

func (n *Network) newLink(peer string, conn uint64, offerer bool) *link {
	l := &link{n: n, peer: peer, conn: conn, offerer: offerer, started: time.Now()}
	l.timer = time.AfterFunc(n.cfg.SetupTimeout, func() {
		if !l.isOpen() {
			n.drop(l, errors.New("set-up timed out"))
		}
	})
	return l
}

func (l *link) isOpen() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.opened && !l.ended
}

func (l *link) newPC() error {
	pc, err := l.n.api.NewPeerConnection(l.n.rtcConfig())
	if err != nil {
		return fmt.Errorf("transport: peer connection: %w", err)
	}
	l.mu.Lock()
	if l.closing {
		l.mu.Unlock()
		_ = pc.Close()
		return errors.New("transport: link closed while opening")
	}
	l.pc = pc
	l.mu.Unlock()
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c == nil {
			return
		}
		ci := c.ToJSON()
		if err := l.n.sig.Signal(l.peer, Signal{Type: "candidate", Conn: l.conn, Candidate: &ci}); err != nil {
			l.n.cfg.Logger.Debug("signal candidate", "peer", l.peer, "err", err)
		}
	})
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		// Disconnected (nothing heard for the ICE disconnect timeout, 3 s) ends
		// the link at once rather than at Failed (5 s): a killed upstream is
		// replaced 2 s sooner, and a hiccup costs only a new handshake (the
		// link loop reconnects) while the CDN covers the gap.
		if s == webrtc.PeerConnectionStateDisconnected || s == webrtc.PeerConnectionStateFailed || s == webrtc.PeerConnectionStateClosed {
			l.n.drop(l, fmt.Errorf("connection %s", s))
		}
	})
	return nil
}

func (l *link) offer() error {
	if err := l.newPC(); err != nil {
		return err
	}
	dc, err := l.pc.CreateDataChannel("p2phls", nil) // ordered, reliable
	if err != nil {
		return fmt.Errorf("transport: data channel: %w", err)
	}
	l.attach(dc)
	o, err := l.pc.CreateOffer(nil)
	return l.local("offer", o, err)
}

// local sets and signals this side's description (an offer or an answer).
func (l *link) local(kind string, d webrtc.SessionDescription, err error) error {
	if err == nil {
		err = l.pc.SetLocalDescription(d)
	}
	if err != nil {
		return fmt.Errorf("transport: %s: %w", kind, err)
	}
	return l.n.sig.Signal(l.peer, Signal{Type: kind, Conn: l.conn, SDP: d.SDP})
}

func (l *link) answer(sdp string) error {
	if err := l.newPC(); err != nil {
		return err
	}
	l.pc.OnDataChannel(l.attach)
	if err := l.remote(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: sdp}); err != nil {
		return err
	}
	a, err := l.pc.CreateAnswer(nil)
	return l.local("answer", a, err)
}

func (l *link) answered(sdp string) error {
	if !l.offerer {
		return fmt.Errorf("%w: answer to a peer that offered", ErrBadSignal)
	}
	return l.remote(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: sdp})
}

// remote sets the remote description, then the candidates that came first.
func (l *link) remote(d webrtc.SessionDescription) error {
	if err := l.pc.SetRemoteDescription(d); err != nil {
		return fmt.Errorf("%w: %w", ErrBadSignal, err)
	}
	l.mu.Lock()
	l.remoteSet = true
	pending := l.pending
	l.pending = nil
	l.mu.Unlock()
	for _, c := range pending {
		if err := l.pc.AddICECandidate(c); err != nil {
			return fmt.Errorf("%w: %w", ErrBadSignal, err)
		}
	}
	return nil
}

func (l *link) candidate(c webrtc.ICECandidateInit) error {
	l.mu.Lock()
	if !l.remoteSet {
		if len(l.pending) < 64 {
			l.pending = append(l.pending, c)
		}
		l.mu.Unlock()
		return nil
	}
	l.mu.Unlock()
	if err := l.pc.AddICECandidate(c); err != nil {
		return fmt.Errorf("%w: %w", ErrBadSignal, err)
	}
	return nil
}

// open marks the link open once (counting its set-up and telling the
// handler) and reports whether it is open.
func (l *link) open() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ended || l.opened {
		return l.opened && !l.ended
	}
	l.opened = true
	l.timer.Stop()
	l.n.opened.Add(1)
	l.n.setupNanos.Add(int64(time.Since(l.started)))
	if relayed(l.pc) {
		l.n.relayed.Add(1)
	}
	if l.n.h.Open != nil {
		l.n.h.Open(l.peer)
	}
	return true
}

// attach wires the DataChannel's events to the Network's handler.
func (l *link) attach(dc *webrtc.DataChannel) {
	l.mu.Lock()
	l.dc = dc
	l.mu.Unlock()
	dc.OnOpen(func() { l.open() })
	// The answerer's channel can deliver the offerer's first message (a
	// peer's HELLO) before its open event has run: the message proves the
	// channel open, so the handler hears Open first and the message is kept.
	dc.OnMessage(func(m webrtc.DataChannelMessage) {
		if l.open() && l.n.h.Message != nil {
			l.n.h.Message(l.peer, m.Data)
		}
	})
	dc.OnClose(func() { l.n.drop(l, errors.New("data channel closed")) })
}

func (l *link) send(b []byte, highWater uint64) bool {
	l.mu.Lock()
	dc, ok := l.dc, l.opened && !l.ended
	l.mu.Unlock()
	if !ok || dc.BufferedAmount() > highWater {
		return false
	}
	return dc.Send(b) == nil
}

func (l *link) close() {
	l.timer.Stop()
	l.mu.Lock()
	l.closing = true
	pc := l.pc
	l.mu.Unlock()
	if pc != nil {
		_ = pc.Close()
	}
}
