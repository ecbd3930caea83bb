// Package integrity is the service beside the tracker that lets peers check
// what other peers send them: for every swarm being watched it follows the
// swarm's playlist on an allowed origin, fetches each new segment once, and
// publishes the SHA-256 of every block (engine.Digests) to the swarm.
package integrity

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/p2phls/p2phls/engine"
	"github.com/p2phls/p2phls/hls"
)

// Errors of Watch.
var (
	ErrNotAllowed    = errors.New("integrity: playlist not on an allowed origin")
	ErrSwarmMismatch = errors.New("integrity: playlist does not name this swarm")
)

// recent is how many segments' digests are kept per swarm for newcomers.
const recent = 8

// Config of a Service.
type Config struct {
	// Allow lists the origins (scheme://host[:port]) the service may fetch
	// from; a playlist or segment elsewhere is refused (no request forgery).
	Allow   []string
	Stripes int      // the stripe count digests are cut for; default 4 (the engine's)
	Client  hls.Doer // default hls.Source's
	// Publish sends one digests message (JSON) to every peer of the swarm.
	Publish func(swarm string, msg []byte)
	// Linger keeps a swarm watched this long after its last peer left. Default 30s.
	Linger time.Duration
	Logger *slog.Logger
}

// Message is the "digests" message (docs/PROTOCOL.md).
type Message struct {
	Type    string `json:"type"`
	Segment string `json:"segment"` // hls.ContentKey
	Size    int    `json:"size"`
	Stripes int    `json:"stripes"`
	Block   int    `json:"block"`
	Sums    []byte `json:"sums"` // 32 bytes per block, base64 in JSON
}

// Service watches swarms.
type Service struct {
	cfg    Config
	allow  []string
	mu     sync.Mutex
	swarms map[string]*watch
	total  atomic.Int64 // bytes fetched from origins, all swarms ever
}

type watch struct {
	playlist string
	refs     int
	cancel   context.CancelFunc
	idle     *time.Timer
	last     [][]byte // recent digests messages, oldest first
}

// New returns a Service.
func New(cfg Config) *Service {
	if cfg.Stripes <= 0 {
		cfg.Stripes = engine.DefaultStripes
	}
	if cfg.Linger <= 0 {
		cfg.Linger = 30 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Service{cfg: cfg, swarms: map[string]*watch{}}
	for _, a := range cfg.Allow {
		if o := hls.Origin(a); o != "" {
			s.allow = append(s.allow, o)
		}
	}
	return s
}

// Allowed says whether the service may fetch raw.
func (s *Service) Allowed(raw string) bool {
	o := hls.Origin(raw)
	return o != "" && slices.Contains(s.allow, o)
}

// Watch starts (or joins) the watch of a swarm's playlist; Release ends a
// Watch that returned nil.
func (s *Service) Watch(swarm, playlist string) error {
	if !s.Allowed(playlist) {
		return fmt.Errorf("%w: %s", ErrNotAllowed, hls.Origin(playlist))
	}
	if id, err := hls.SwarmID(playlist); err != nil || id != swarm {
		return fmt.Errorf("%w: %q", ErrSwarmMismatch, swarm)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.swarms[swarm]
	if w == nil {
		ctx, cancel := context.WithCancel(context.Background())
		w = &watch{playlist: playlist, cancel: cancel}
		s.swarms[swarm] = w
		go s.follow(ctx, swarm, w)
	}
	if w.idle != nil {
		w.idle.Stop()
		w.idle = nil
	}
	w.refs++
	return nil
}

// Release drops one reference; the last one stops the watch after Linger.
func (s *Service) Release(swarm string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.swarms[swarm]
	if w == nil || w.refs == 0 {
		return
	}
	w.refs--
	if w.refs == 0 {
		w.idle = time.AfterFunc(s.cfg.Linger, func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			if w.refs == 0 && s.swarms[swarm] == w {
				w.cancel()
				delete(s.swarms, swarm)
			}
		})
	}
}

// Recent returns the last digests messages of a swarm, oldest first.
func (s *Service) Recent(swarm string) [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	if w := s.swarms[swarm]; w != nil {
		return slices.Clone(w.last)
	}
	return nil
}

// Fetched is how many bytes the service fetched from origins in all: CDN
// bytes of the swarms it checks (tracker metric p2phls_integrity_cdn_bytes_total).
func (s *Service) Fetched() int64 { return s.total.Load() }

// Close stops every watch.
func (s *Service) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, w := range s.swarms {
		w.cancel()
		delete(s.swarms, id)
	}
}

func (s *Service) follow(ctx context.Context, swarm string, w *watch) {
	src := hls.NewSource(hls.SourceConfig{Client: s.cfg.Client, Logger: s.cfg.Logger})
	err := hls.Follow(ctx, hls.FollowConfig{URL: w.playlist, Source: src, Logger: s.cfg.Logger,
		OnSegment: func(it hls.Item) { s.digest(ctx, src, swarm, w, it) }})
	if err != nil && ctx.Err() == nil {
		s.cfg.Logger.Warn("integrity: playlist watch ended", "swarm", swarm, "err", err)
	}
}

// digest fetches one segment and publishes its digests.
func (s *Service) digest(ctx context.Context, src *hls.Source, swarm string, w *watch, it hls.Item) {
	if it.Gap || !s.Allowed(it.URL) {
		if !it.Gap {
			s.cfg.Logger.Warn("integrity: segment not on an allowed origin: not checked", "swarm", swarm, "url", it.URL)
		}
		return
	}
	b, err := src.Fetch(ctx, it.URL, it.Range)
	if err != nil {
		s.cfg.Logger.Warn("integrity: segment fetch failed", "swarm", swarm, "url", it.URL, "err", err)
		return
	}
	sums := engine.Digests(b, s.cfg.Stripes)
	flat := make([]byte, 0, 32*len(sums))
	for _, d := range sums {
		flat = append(flat, d[:]...)
	}
	msg, _ := json.Marshal(Message{Type: "digests", Segment: hls.ContentKey(it.Segment), Size: len(b),
		Stripes: s.cfg.Stripes, Block: engine.BlockSize, Sums: flat})
	s.total.Add(int64(len(b)))
	s.mu.Lock()
	w.last = append(w.last, msg)
	if len(w.last) > recent {
		w.last = w.last[1:]
	}
	s.mu.Unlock()
	if s.cfg.Publish != nil {
		s.cfg.Publish(swarm, msg)
	}
}
