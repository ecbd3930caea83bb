package tracker

import (
	"context"
	"errors"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/p2phls/p2phls/tracker/peerstore"
)

// maxViolations is how many rate-limited messages a client may send before
// it is disconnected.
const maxViolations = 200

// Session is one client connection to this node.
type Session struct {
	mu      sync.Mutex // one message at a time; Disconnect waits for it
	t       *Tracker
	sink    Sink
	remote  string
	lim     *rate.Limiter
	viol    int
	joined  bool
	closed  bool
	watched bool  // holds a watch of the swarm's integrity digests
	at      int32 // index in Tracker.all (guarded by t.mu)
	peer    peerstore.Peer
	ip      *perIP // its address's count and message budget
}

// PeerID returns the id given at join ("" before).
func (s *Session) PeerID() string { return s.peer.ID }

// Handle processes one raw message from the client. Errors go back to the
// client as {"type":"error"}; they never end the session, except a flood.
func (s *Session) Handle(ctx context.Context, raw []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	if !s.allow() {
		s.viol++
		if s.viol == 1 || s.viol%50 == 0 {
			s.fail(protoErr(CodeRateLimited, "more than %v messages/s; message dropped", s.lim.Limit()))
		} else {
			s.t.m.errors.WithLabelValues(CodeRateLimited).Inc()
		}
		if s.viol > maxViolations {
			s.t.log.Warn("closing flooding client", "remote", s.remote, "peer", s.peer.ID)
			s.sink.Close(ClosePolicy, "message flood")
		}
		return
	}
	m, err := DecodeMessage(raw)
	if err != nil {
		s.fail(err)
		return
	}
	s.t.m.messages.WithLabelValues(m.Type).Inc()
	if err := s.dispatch(ctx, m); err != nil {
		s.fail(err)
	}
}

// TooLarge reports a message the socket layer refused for its size.
func (s *Session) TooLarge() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail(protoErr(CodeTooLarge, "message over %d bytes dropped", MaxMessage))
}

func (s *Session) dispatch(ctx context.Context, m Message) error {
	if m.Type == "join" {
		return s.join(ctx, m)
	}
	if m.Type == "ping" {
		s.sink.Send(encode(noticeMsg{Type: "pong"}))
		return nil
	}
	if !s.joined {
		return protoErr(CodeNotJoined, "join a swarm first")
	}
	switch m.Type {
	case "signal":
		out := encode(signalMsg{Type: "signal", From: s.peer.ID, Data: m.Data})
		if err := s.t.route(ctx, s.peer.Swarm, m.To, out); err != nil {
			return err
		}
		s.t.m.relayed.WithLabelValues("signal").Inc()
	case "peers":
		return s.sendPeers(ctx, m.Size)
	case "stats":
		return s.report(ctx, *m.Stats, m.UploadCap)
	case "leave":
		s.leave(ctx)
	case "report":
		return s.reportPeer(m)
	}
	return nil
}

func (s *Session) fail(err error) {
	var pe *ProtoError
	if !errors.As(err, &pe) {
		pe = protoErr(CodeUnavailable, "internal error")
	}
	s.t.m.errors.WithLabelValues(pe.Code).Inc()
	s.t.log.Debug("client error", "remote", s.remote, "peer", s.peer.ID, "code", pe.Code, "msg", pe.Msg)
	s.sink.Send(encode(errorMsg{Type: "error", Code: pe.Code, Message: pe.Msg}))
}

func (s *Session) join(ctx context.Context, m Message) error {
	start := time.Now()
	if s.joined {
		return protoErr(CodeAlreadyJoined, "already joined swarm %q as %s; leave first", s.peer.Swarm, s.peer.ID)
	}
	id := randomID(10)
	if s.t.isBanned("", s.remote) {
		return protoErr(CodeBanned, "this address is banned: its peers were reported for bad data")
	}
	if s.t.cfg.Auth != nil {
		pinned, err := s.t.cfg.Auth(m.Token, m.Swarm)
		if err != nil {
			return protoErr(CodeBadToken, "%v", err)
		}
		if pinned != "" {
			id = pinned
		}
		if s.t.isBanned(id, "") {
			return protoErr(CodeBanned, "peer %s is banned: reported for bad data", id)
		}
	}
	key := randomID(12)
	p := peerstore.Peer{ID: id, Swarm: sharedSwarm(s.t, m.Swarm), Node: s.t.cfg.Node, Joined: s.t.cfg.Now(), UploadCap: m.UploadCap, Key: key}
	if err := s.t.cfg.Store.Put(ctx, p, s.t.ttl()); err != nil {
		s.t.log.Warn("join failed: store", "err", err)
		return protoErr(CodeUnavailable, "peer registry unavailable; retry later")
	}
	peers, err := s.t.peerList(ctx, m.Swarm, id, s.t.cfg.JoinPeers)
	if err != nil {
		s.t.log.Warn("join: listing peers failed", "err", err)
	}
	s.t.mu.Lock()
	s.joined, s.peer = true, p // under t.mu: the heartbeat reads s.peer
	s.t.addLocal(s)
	s.t.mu.Unlock()
	s.t.m.peers.Inc()
	on := s.watch(m.Playlist)
	s.sink.Send(encode(joinedMsg{Type: "joined", Version: ProtocolVersion, Peer: id, Swarm: m.Swarm,
		Peers: ids(peers), StatsKey: key, Interval: int(s.t.cfg.Heartbeat / time.Millisecond), Integrity: on}))
	if on {
		for _, d := range s.t.cfg.Integrity.Recent(m.Swarm) {
			s.sink.Send(d)
		}
	}
	s.t.m.joinSeconds.Observe(time.Since(start).Seconds())
	s.t.log.Debug("joined", "peer", id, "swarm", m.Swarm, "remote", s.remote)
	return nil
}

func ids(peers []peerstore.Peer) []string {
	out := make([]string, len(peers))
	for i, p := range peers {
		out[i] = p.ID
	}
	return out
}

func (s *Session) sendPeers(ctx context.Context, n int) error {
	if n <= 0 || n > 100 {
		n = s.t.cfg.JoinPeers
	}
	peers, err := s.t.peerList(ctx, s.peer.Swarm, s.peer.ID, n)
	if err != nil {
		return protoErr(CodeUnavailable, "peer registry unavailable")
	}
	s.sink.Send(encode(peersMsg{Type: "peers", Peers: ids(peers)}))
	return nil
}

func (s *Session) report(ctx context.Context, st peerstore.Stats, upCap int64) error {
	if st.BytesCDN < 0 || st.BytesP2P < 0 || st.BytesUploaded < 0 || st.Stalls < 0 {
		return protoErr(CodeBadMessage, "negative counter in stats")
	}
	err := s.t.cfg.Store.Report(ctx, s.peer.Swarm, s.peer.ID, peerstore.Report{Stats: st, UploadCap: upCap, At: s.t.cfg.Now()})
	if err != nil {
		return protoErr(CodeUnavailable, "stats not stored")
	}
	return nil
}

// leave removes the peer from its swarm; the connection stays open.
func (s *Session) leave(ctx context.Context) {
	if !s.joined {
		return
	}
	s.t.mu.Lock()
	s.t.removeLocal(s)
	s.t.mu.Unlock()
	if err := s.t.cfg.Store.Remove(ctx, s.peer.Swarm, s.peer.ID); err != nil {
		s.t.log.Warn("leave: store", "err", err)
	}
	s.joined = false
	s.unwatch()
	s.t.m.peers.Dec()
}

// leaveLocked is leave taking the session's lock (the connection's own
// Session may be ending at the same time).
func (s *Session) leaveLocked(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.leave(ctx)
}

// Disconnect ends the session: the peer leaves its swarm.
func (s *Session) Disconnect(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	s.t.mu.Lock()
	s.t.forget(s)
	if s.ip != nil {
		s.t.release(hostOf(s.remote))
	}
	s.t.mu.Unlock()
	s.leave(ctx)
	s.t.m.connections.Dec()
}
