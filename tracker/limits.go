package tracker

import (
	"context"
	"errors"

	"golang.org/x/time/rate"

	"github.com/p2phls/p2phls/tracker/peerstore"
)

// Per-address limits and the minimum swarm size.

// ErrTooManyConns: the address already holds ConnsPerIP connections.
var ErrTooManyConns = errors.New("tracker: too many connections from this address")

// CloseTooMany is the WebSocket close code for a connection over the per-address limit.
const CloseTooMany = 4029

// perIP is one address's connections and shared message budget.
type perIP struct {
	conns int
	lim   *rate.Limiter // nil: no per-address message limit
}

// admit counts a new connection from ip. Under t.mu.
func (t *Tracker) admit(ip string) (*perIP, error) {
	a := t.ips[ip]
	if a == nil {
		a = &perIP{}
		if t.cfg.MsgsPerIP > 0 {
			a.lim = rate.NewLimiter(t.cfg.MsgsPerIP, int(max(1, t.cfg.MsgsPerIP)))
		}
		t.ips[ip] = a
	}
	if t.cfg.ConnsPerIP > 0 && a.conns >= t.cfg.ConnsPerIP {
		return nil, ErrTooManyConns
	}
	a.conns++
	return a, nil
}

// release uncounts a connection from ip. Under t.mu.
func (t *Tracker) release(ip string) {
	if a := t.ips[ip]; a != nil {
		a.conns--
		if a.conns <= 0 {
			delete(t.ips, ip)
		}
	}
}

// allow is the session's message budget: its own and its address's.
func (s *Session) allow() bool {
	return s.lim.Allow() && (s.ip == nil || s.ip.lim == nil || s.ip.lim.Allow())
}

// peerList is the ranked peers a member of swarm is told of: none while the
// swarm is smaller than MinSwarm (viewers of a small swarm stay unseen).
func (t *Tracker) peerList(ctx context.Context, swarm, exclude string, n int) ([]peerstore.Peer, error) {
	peers, err := t.Ranked(ctx, swarm, exclude, max(n, t.cfg.MinSwarm))
	if err != nil {
		return nil, err
	}
	if t.cfg.MinSwarm > 0 && len(peers)+1 < t.cfg.MinSwarm {
		return nil, nil
	}
	return peers[:min(n, len(peers))], nil
}
