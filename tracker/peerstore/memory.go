package peerstore

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"
)

// Memory is an in-process Store and Bus. Several tracker nodes in one process
// may share one Memory, which then behaves like a shared Redis.
type Memory struct {
	now func() time.Time

	mu     sync.Mutex
	swarms map[string]*memSwarm
	subs   map[string]map[int]func([]byte)
	nextID int
}

type memSwarm struct {
	peers  map[string]*memPeer
	totals Stats
}

type memPeer struct {
	Peer
	expires time.Time
}

// NewMemory returns an empty store. now is the clock (time.Now when nil).
func NewMemory(now func() time.Time) *Memory {
	if now == nil {
		now = time.Now
	}
	return &Memory{now: now, swarms: map[string]*memSwarm{}, subs: map[string]map[int]func([]byte){}}
}

func (m *Memory) swarm(id string, create bool) *memSwarm {
	s := m.swarms[id]
	if s == nil && create {
		s = &memSwarm{peers: map[string]*memPeer{}}
		m.swarms[id] = s
	}
	return s
}

// live returns the swarm's unexpired peers, dropping expired ones.
func (m *Memory) live(s *memSwarm) map[string]*memPeer {
	now := m.now()
	for id, p := range s.peers {
		if !now.Before(p.expires) {
			delete(s.peers, id)
		}
	}
	return s.peers
}

// Put implements Store.
func (m *Memory) Put(_ context.Context, p Peer, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.swarm(p.Swarm, true).peers[p.ID] = &memPeer{Peer: p, expires: m.now().Add(ttl)}
	return nil
}

// Refresh implements Store.
func (m *Memory) Refresh(_ context.Context, peers []Peer, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	exp := m.now().Add(ttl)
	for _, p := range peers {
		s := m.swarm(p.Swarm, true)
		if mp := s.peers[p.ID]; mp != nil {
			mp.expires = exp
			continue
		}
		s.peers[p.ID] = &memPeer{Peer: p, expires: exp}
	}
	return nil
}

// Remove implements Store.
func (m *Memory) Remove(_ context.Context, swarm, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if s := m.swarm(swarm, false); s != nil {
		delete(s.peers, id)
	}
	return nil
}

// Get implements Store.
func (m *Memory) Get(_ context.Context, swarm, id string) (Peer, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if s := m.swarm(swarm, false); s != nil {
		if p := m.live(s)[id]; p != nil {
			return p.Peer, nil
		}
	}
	return Peer{}, fmt.Errorf("peer %q in swarm %q: %w", id, swarm, ErrNotFound)
}

// List implements Store.
func (m *Memory) List(_ context.Context, swarm string) ([]Peer, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.swarm(swarm, false)
	if s == nil {
		return nil, nil
	}
	out := make([]Peer, 0, len(s.peers))
	for _, p := range m.live(s) {
		out = append(out, p.Peer)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// Swarms implements Store: swarms with at least one live peer.
func (m *Memory) Swarms(_ context.Context) ([]SwarmInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []SwarmInfo
	for id, s := range m.swarms {
		if n := len(m.live(s)); n > 0 {
			out = append(out, SwarmInfo{ID: id, Peers: n, Totals: s.totals})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// Swarm implements Store.
func (m *Memory) Swarm(_ context.Context, id string) (SwarmInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.swarm(id, false)
	if s == nil || len(m.live(s)) == 0 {
		return SwarmInfo{}, fmt.Errorf("swarm %q: %w", id, ErrNotFound)
	}
	return SwarmInfo{ID: id, Peers: len(s.peers), Totals: s.totals}, nil
}

// Report implements Store.
func (m *Memory) Report(_ context.Context, swarm, id string, r Report) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.swarm(swarm, false)
	if s == nil || m.live(s)[id] == nil {
		return fmt.Errorf("peer %q in swarm %q: %w", id, swarm, ErrNotFound)
	}
	p := s.peers[id]
	s.totals = s.totals.Add(r.Stats.Delta(p.Stats))
	p.UpRate = upRate(p.Peer, r)
	p.Stats, p.Reported = r.Stats, r.At
	if r.UploadCap > 0 {
		p.UploadCap = r.UploadCap
	}
	return nil
}

// Ping implements Store.
func (m *Memory) Ping(context.Context) error { return nil }

// Close implements Store.
func (m *Memory) Close() error { return nil }

// Publish implements Bus.
func (m *Memory) Publish(_ context.Context, node string, msg []byte) error {
	m.mu.Lock()
	fns := make([]func([]byte), 0, len(m.subs[node]))
	for _, fn := range m.subs[node] {
		fns = append(fns, fn)
	}
	m.mu.Unlock()
	for _, fn := range fns {
		fn(msg)
	}
	return nil
}

// Subscribe implements Bus.
func (m *Memory) Subscribe(_ context.Context, node string, fn func([]byte)) (func(), error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.subs[node] == nil {
		m.subs[node] = map[int]func([]byte){}
	}
	m.nextID++
	id := m.nextID
	m.subs[node][id] = fn
	return func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		delete(m.subs[node], id)
	}, nil
}
