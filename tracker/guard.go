package tracker

import (
	"net"
	"time"

	"github.com/p2phls/p2phls/tracker/integrity"
)

// Integrity and bans: a swarm whose playlist is on an allowed origin gets
// digests from the integrity service; a peer reported for bad data by
// BanReports different peers is banned for BanFor.

// CodeBanned is sent to a banned peer before its connection is closed, and
// to a banned address that tries to join.
const CodeBanned = "banned"

// IntegrityService is what the tracker needs of integrity.Service.
type IntegrityService interface {
	Watch(swarm, playlist string) error
	Release(swarm string)
	Recent(swarm string) [][]byte
}

var _ IntegrityService = (*integrity.Service)(nil)

type guard struct {
	reports map[string]map[string]bool // reported peer → reporters
	banned  map[string]time.Time       // peer id or remote IP → until
}

// watch starts the swarm's digests for a joining session; true when on.
func (s *Session) watch(playlist string) bool {
	svc := s.t.cfg.Integrity
	if svc == nil || playlist == "" {
		return false
	}
	if err := svc.Watch(s.peer.Swarm, playlist); err != nil {
		s.t.log.Info("integrity: swarm not watched", "swarm", s.peer.Swarm, "err", err)
		return false
	}
	s.watched = true
	return true
}

// unwatch releases the swarm's digests when the session leaves.
func (s *Session) unwatch() {
	if s.watched {
		s.watched = false
		s.t.cfg.Integrity.Release(s.peer.Swarm)
	}
}

// Publish sends msg to every peer of swarm joined on this node.
func (t *Tracker) Publish(swarm string, msg []byte) {
	t.mu.Lock()
	var to []*Session
	if ls := t.swarm[swarm]; ls != nil {
		to = make([]*Session, 0, len(ls.members))
		for s := range ls.members {
			to = append(to, s)
		}
	}
	t.mu.Unlock()
	for _, s := range to {
		s.sink.Send(msg)
	}
	t.m.relayed.WithLabelValues("digests").Add(float64(len(to)))
}

// reportPeer counts a report of bad data; past BanReports reporters the
// peer is banned and, if it is on this node, disconnected.
func (s *Session) reportPeer(m Message) error {
	if m.Peer == "" || m.Peer == s.peer.ID || len(m.Reason) > 200 {
		return protoErr(CodeBadMessage, "report needs another peer's \"peer\" and a \"reason\" under 200 bytes")
	}
	t := s.t
	t.m.reports.Inc()
	t.mu.Lock()
	if t.guard.reports[m.Peer] == nil {
		t.guard.reports[m.Peer] = map[string]bool{}
	}
	t.guard.reports[m.Peer][s.peer.ID] = true
	n := len(t.guard.reports[m.Peer])
	var bad *Session
	if n >= t.cfg.BanReports {
		bad = t.local[m.Peer]
		delete(t.guard.reports, m.Peer)
		until := t.cfg.Now().Add(t.cfg.BanFor)
		t.guard.banned[m.Peer] = until
		if bad != nil {
			if ip := hostOf(bad.remote); ip != "" && !isLoopback(ip) {
				t.guard.banned[ip] = until // on loopback every test peer shares the address
			}
		}
	}
	t.mu.Unlock()
	t.log.Warn("peer reported for bad data", "peer", m.Peer, "by", s.peer.ID, "reason", m.Reason, "reporters", n)
	if n >= t.cfg.BanReports {
		t.m.bans.Inc()
		t.log.Warn("peer banned", "peer", m.Peer, "for", t.cfg.BanFor)
		if bad != nil {
			bad.sink.Send(encode(errorMsg{Type: "error", Code: CodeBanned, Message: "banned: reported for bad data by several peers"}))
			bad.sink.Close(CloseBanned, "banned")
		}
	}
	return nil
}

// CloseBanned is the WebSocket close code for a banned peer.
const CloseBanned = 4003

// isBanned reports whether a peer id or its address is banned now.
func (t *Tracker) isBanned(id, remote string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.cfg.Now()
	for _, k := range []string{id, hostOf(remote)} {
		if until, ok := t.guard.banned[k]; ok && k != "" {
			if now.Before(until) {
				return true
			}
			delete(t.guard.banned, k)
		}
	}
	return false
}

func hostOf(remote string) string {
	h, _, err := net.SplitHostPort(remote)
	if err != nil {
		return remote
	}
	return h
}

func isLoopback(ip string) bool {
	a := net.ParseIP(ip)
	return a != nil && a.IsLoopback()
}
