package hls

import (
	"context"
	"errors"
	"fmt"
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
	target   time.Duration       // of the last playlist from the CDN
	hosts    map[string]struct{} // hosts the CDN's playlists point at
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
		case f.restarts(m):
			f.epoch++
			f.lastSeq = -1
		case m.MediaSequence < f.lastMS:
			return nil // stale copy from a lagging server
		}
	}
	f.started = true
	f.target = m.TargetDuration
	f.learnHosts(m)
	return f.take(m)
}

// restarts reports that m starts a new epoch: the whole playlist is older
// than the previous one's first segment, or the discontinuity sequence went
// down (an encoder restart).
func (f *Follower) restarts(m *Media) bool {
	return f.started && (m.MediaSequence+int64(len(m.Segments)) <= f.lastMS || m.DiscSeq < f.lastDisc)
}

// take records m as the latest playlist and returns its new segments.
func (f *Follower) take(m *Media) []Item {
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

func fetchMedia(ctx context.Context, src *Source, u string) (*Media, []byte, error) {
	b, err := src.Fetch(ctx, u, nil)
	if err != nil {
		return nil, nil, err
	}
	return parseMedia(u, b)
}

// parseMedia parses a media playlist fetched from u.
func parseMedia(u string, b []byte) (*Media, []byte, error) {
	m, _, err := Parse(u, b)
	if err != nil {
		return nil, nil, err
	}
	if m == nil {
		return nil, nil, fmt.Errorf("%w: %s", ErrNotMedia, u)
	}
	return m, b, nil
}
