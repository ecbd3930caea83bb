// Package peerstore holds the tracker's registry of connected peers, per swarm,
// and the bus that carries signals between tracker nodes. Two implementations
// sit behind the same interfaces: Memory (one node, or several nodes in one
// process for tests) and Redis (several tracker processes sharing one Redis).
package peerstore

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors.
var (
	ErrNotFound    = errors.New("peerstore: not found")
	ErrUnavailable = errors.New("peerstore: store unavailable")
)

// Stats is a peer's cumulative report. Counters only grow while a peer lives;
// a report lower than the previous one is taken as a restarted counter.
type Stats struct {
	BytesCDN      int64 `json:"bytes_cdn"`
	BytesP2P      int64 `json:"bytes_p2p"`
	BytesUploaded int64 `json:"bytes_uploaded"`
	Stalls        int64 `json:"stalls"`
}

// Add returns s+o, field by field.
func (s Stats) Add(o Stats) Stats {
	return Stats{s.BytesCDN + o.BytesCDN, s.BytesP2P + o.BytesP2P, s.BytesUploaded + o.BytesUploaded, s.Stalls + o.Stalls}
}

// Delta returns what a new cumulative report adds to the previous one. A counter
// that went down (the peer restarted it) counts from zero.
func (s Stats) Delta(prev Stats) Stats {
	d := func(n, p int64) int64 {
		if n < p {
			return n
		}
		return n - p
	}
	return Stats{d(s.BytesCDN, prev.BytesCDN), d(s.BytesP2P, prev.BytesP2P), d(s.BytesUploaded, prev.BytesUploaded), d(s.Stalls, prev.Stalls)}
}

// Peer is one connected viewer as the registry knows it.
type Peer struct {
	ID        string    `json:"id"`
	Swarm     string    `json:"swarm"`
	Node      string    `json:"node"`
	Joined    time.Time `json:"joined"`
	UploadCap int64     `json:"upload_capacity"` // bytes/s the peer says it can upload; 0 = unknown
	UpRate    int64     `json:"upload_rate"`     // bytes/s it uploaded between its last two reports
	Stats     Stats     `json:"stats"`
	Reported  time.Time `json:"reported"`
	Key       string    `json:"key,omitempty"` // secret the peer presents with HTTP stats reports
}

// SwarmInfo is a swarm's summary: live peers and the stats totals reported by
// every peer that ever joined it (departed ones included).
type SwarmInfo struct {
	ID     string `json:"id"`
	Peers  int    `json:"peers"`
	Totals Stats  `json:"totals"`
}

// Report is one stats report from a peer.
type Report struct {
	Stats     Stats
	UploadCap int64
	At        time.Time
}

// Store is the peer registry. Entries expire unless refreshed within their TTL,
// so a tracker node that dies leaves no stale peers behind.
type Store interface {
	// Put adds or replaces a peer with the given time to live.
	Put(ctx context.Context, p Peer, ttl time.Duration) error
	// Refresh extends the life of existing peers (one call for many). A peer
	// missing from the store (e.g. Redis restarted empty) is re-added by Put.
	Refresh(ctx context.Context, peers []Peer, ttl time.Duration) error
	Remove(ctx context.Context, swarm, id string) error
	Get(ctx context.Context, swarm, id string) (Peer, error)
	List(ctx context.Context, swarm string) ([]Peer, error)
	// Sample returns up to n distinct live peers of the swarm chosen at
	// random (all of them when it has no more than n), at a cost that does
	// not grow with the swarm: what a newcomer's peer list is ranked from.
	Sample(ctx context.Context, swarm string, n int) ([]Peer, error)
	Swarms(ctx context.Context) ([]SwarmInfo, error)
	Swarm(ctx context.Context, swarm string) (SwarmInfo, error)
	// Report stores a peer's stats and adds its growth to the swarm totals.
	Report(ctx context.Context, swarm, id string, r Report) error
	Ping(ctx context.Context) error
	Close() error
}

// Local says whether every call of the store and the bus is answered in
// this process, never waiting on a network (both are a Memory): the tracker
// may then handle a message on the goroutine that read it.
func Local(s Store, b Bus) bool {
	_, ms := s.(*Memory)
	_, mb := b.(*Memory)
	return ms && mb
}

// Bus carries messages addressed to a tracker node.
type Bus interface {
	Publish(ctx context.Context, node string, msg []byte) error
	// Subscribe delivers every message addressed to node to fn until stop is called.
	Subscribe(ctx context.Context, node string, fn func([]byte)) (stop func(), err error)
}

// upRate is the upload rate between two reports, in bytes/s.
func upRate(prev Peer, r Report) int64 {
	if prev.Reported.IsZero() || !r.At.After(prev.Reported) || r.Stats.BytesUploaded < prev.Stats.BytesUploaded {
		return prev.UpRate
	}
	dt := r.At.Sub(prev.Reported).Seconds()
	return int64(float64(r.Stats.BytesUploaded-prev.Stats.BytesUploaded) / dt)
}
