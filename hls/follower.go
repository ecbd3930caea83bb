package hls

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// ErrNotMedia is returned when a media playlist was expected.
var ErrNotMedia = errors.New("hls: not a media playlist")

// Item is a new segment seen by a Follower, with its shared identity.
type Item struct {
	ID    string
	Epoch int
	Segment
}

// Follower tracks a live media playlist and reports each new segment once,
// in order. An encoder restart — the whole playlist older than the previous
// one's first segment, or the discontinuity sequence going backwards — starts
// a new epoch instead of waiting for sequence numbers that will never come.
// A playlist only slightly behind (a lagging CDN node) is ignored.
type Follower struct {
	epoch    int
	lastSeq  int64
	lastMS   int64
	lastDisc int
	started  bool
}

// NewFollower returns a follower that has seen nothing yet.
func NewFollower() *Follower { return &Follower{lastSeq: -1} }

// Epoch returns the current encoder epoch.
func (f *Follower) Epoch() int { return f.epoch }

// Update takes a freshly fetched playlist and returns the segments not seen
// before.
func (f *Follower) Update(m *Media) []Item {
	if f.started {
		switch {
		case m.MediaSequence+int64(len(m.Segments)) <= f.lastMS || m.DiscSeq < f.lastDisc:
			f.epoch++
			f.lastSeq = -1
		case m.MediaSequence < f.lastMS:
			return nil // stale copy from a lagging server
		}
	}
	f.started = true
	f.lastMS, f.lastDisc = m.MediaSequence, m.DiscSeq
	var out []Item
	for _, s := range m.Segments {
		if s.Seq > f.lastSeq {
			out = append(out, Item{ID: SegmentID(f.epoch, s), Epoch: f.epoch, Segment: s})
			f.lastSeq = s.Seq
		}
	}
	return out
}

// Sleeper waits for d or until ctx ends; injected so tests control time.
type Sleeper func(ctx context.Context, d time.Duration) error

// SleepReal waits on the wall clock.
func SleepReal(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// FollowConfig configures Follow.
type FollowConfig struct {
	URL       string
	Source    *Source
	OnSegment func(Item)
	OnMedia   func(*Media, []byte) // every playlist fetched (optional)
	Sleep     Sleeper              // default SleepReal
	Logger    *slog.Logger
}

// Follow polls the playlist until ctx ends or the playlist ends (ENDLIST):
// reloads every target duration after a change and every half target duration
// otherwise (RFC 8216 §6.3.4), backing off on errors.
func Follow(ctx context.Context, cfg FollowConfig) error {
	if cfg.Sleep == nil {
		cfg.Sleep = SleepReal
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	f := NewFollower()
	backoff := 250 * time.Millisecond
	for {
		m, raw, err := fetchMedia(ctx, cfg.Source, cfg.URL)
		wait := backoff
		if err != nil {
			cfg.Logger.Warn("playlist refresh failed", "url", cfg.URL, "err", err)
			backoff = min(2*backoff, 8*time.Second)
		} else {
			backoff = 250 * time.Millisecond
			if cfg.OnMedia != nil {
				cfg.OnMedia(m, raw)
			}
			items := f.Update(m)
			for _, it := range items {
				cfg.OnSegment(it)
			}
			if m.Endlist {
				return nil
			}
			wait = max(m.TargetDuration, 500*time.Millisecond)
			if len(items) == 0 {
				wait /= 2
			}
		}
		if err := cfg.Sleep(ctx, wait); err != nil {
			return err
		}
	}
}

func fetchMedia(ctx context.Context, src *Source, u string) (*Media, []byte, error) {
	b, err := src.Fetch(ctx, u, nil)
	if err != nil {
		return nil, nil, err
	}
	m, _, err := Parse(u, b)
	if err != nil {
		return nil, nil, err
	}
	if m == nil {
		return nil, nil, fmt.Errorf("%w: %s", ErrNotMedia, u)
	}
	return m, b, nil
}
