package peerstore

import (
	"context"
	"fmt"
	"math/rand/v2"
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

// memSwarm holds its peers in a map (by id) and a slice (for sampling in
// O(n), whatever the swarm's size). soonest is a lower bound on the earliest
// expiry: reads sweep the swarm only once that time has come, about once
// per time to live, not on every call (0: no peer).
type memSwarm struct {
	peers   map[string]*memPeer
	order   []*memPeer
	soonest int64 // Unix ns
	totals  Stats
}

// memPeer is one entry. Its expiry is Unix nanoseconds, not a time.Time:
// 16 bytes less for every idle peer a node holds.
type memPeer struct {
	Peer
	expires int64
	at      int // index in order
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

// live drops the swarm's expired peers when one may have expired, and
// returns it.
func (m *Memory) live(s *memSwarm) *memSwarm {
	now := m.now().UnixNano()
	if now < s.soonest {
		return s
	}
	var soonest int64
	for i := 0; i < len(s.order); {
		p := s.order[i]
		if now >= p.expires {
			s.drop(p) // moves the last one to i
			continue
		}
		if soonest == 0 || p.expires < soonest {
			soonest = p.expires
		}
		i++
	}
	s.soonest = soonest
	return s
}

// add puts p in (replacing the entry of the same id) until exp.
func (s *memSwarm) add(p Peer, exp int64) {
	if old := s.peers[p.ID]; old != nil {
		old.Peer, old.expires = p, exp
	} else {
		mp := &memPeer{Peer: p, expires: exp, at: len(s.order)}
		s.peers[p.ID] = mp
		s.order = append(s.order, mp)
	}
	if s.soonest == 0 || exp < s.soonest {
		s.soonest = exp
	}
}

func (s *memSwarm) drop(p *memPeer) {
	last := s.order[len(s.order)-1]
	s.order[p.at], last.at = last, p.at
	s.order[len(s.order)-1] = nil
	s.order = s.order[:len(s.order)-1]
	delete(s.peers, p.ID)
}

// get returns peer id of the swarm if it is live (dropping it if expired).
func (m *Memory) get(s *memSwarm, id string) *memPeer {
	p := s.peers[id]
	if p == nil {
		return nil
	}
	if m.now().UnixNano() >= p.expires {
		s.drop(p)
		return nil
	}
	return p
}

// Put implements Store.
func (m *Memory) Put(_ context.Context, p Peer, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.swarm(p.Swarm, true).add(p, m.now().Add(ttl).UnixNano())
	return nil
}

// Refresh implements Store.
func (m *Memory) Refresh(_ context.Context, peers []Peer, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	exp := m.now().Add(ttl).UnixNano()
	for _, p := range peers {
		s := m.swarm(p.Swarm, true)
		if mp := s.peers[p.ID]; mp != nil {
			mp.expires = exp // later than before: soonest stays a lower bound
			continue
		}
		s.add(p, exp)
	}
	return nil
}

// Remove implements Store.
func (m *Memory) Remove(_ context.Context, swarm, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if s := m.swarm(swarm, false); s != nil {
		if p := s.peers[id]; p != nil {
			s.drop(p)
		}
	}
	return nil
}

// Get implements Store.
func (m *Memory) Get(_ context.Context, swarm, id string) (Peer, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if s := m.swarm(swarm, false); s != nil {
		if p := m.get(s, id); p != nil {
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
	out := make([]Peer, 0, len(s.order))
	for _, p := range m.live(s).order {
		out = append(out, p.Peer)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// Sample implements Store: n distinct live peers at random, in no order.
func (m *Memory) Sample(_ context.Context, swarm string, n int) ([]Peer, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.swarm(swarm, false)
	if s == nil || n <= 0 {
		return nil, nil
	}
	all := m.live(s).order
	if n >= len(all) {
		out := make([]Peer, len(all))
		for i, p := range all {
			out[i] = p.Peer
		}
		return out, nil
	}
	out := make([]Peer, 0, n)
	for _, i := range distinct(n, len(all)) {
		out = append(out, all[i].Peer)
	}
	return out, nil
}

// distinct returns n distinct indices in [0, size) at random, n < size:
// Floyd's algorithm, O(n) whatever size.
func distinct(n, size int) []int {
	seen := make(map[int]struct{}, n)
	out := make([]int, 0, n)
	for j := size - n; j < size; j++ {
		t := rand.IntN(j + 1)
		if _, dup := seen[t]; dup {
			t = j
		}
		seen[t] = struct{}{}
		out = append(out, t)
	}
	return out
}

// Swarms implements Store: swarms with at least one live peer.
func (m *Memory) Swarms(_ context.Context) ([]SwarmInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []SwarmInfo
	for id, s := range m.swarms {
		if n := len(m.live(s).order); n > 0 {
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
	if s == nil || len(m.live(s).order) == 0 {
		return SwarmInfo{}, fmt.Errorf("swarm %q: %w", id, ErrNotFound)
	}
	return SwarmInfo{ID: id, Peers: len(s.order), Totals: s.totals}, nil
}

// Report implements Store.
func (m *Memory) Report(_ context.Context, swarm, id string, r Report) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.swarm(swarm, false)
	var p *memPeer
	if s != nil {
		p = m.get(s, id)
	}
	if p == nil {
		return fmt.Errorf("peer %q in swarm %q: %w", id, swarm, ErrNotFound)
	}
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
