package hls

import (
	"errors"
	"fmt"
)

// Errors for a playlist a peer passed on (FollowConfig.Shared).
var (
	// ErrSharedRefused: the playlist breaks a rule (not a media playlist,
	// another target duration, a host the CDN never used, before the first
	// CDN playlist). Its sender is at fault.
	ErrSharedRefused = errors.New("hls: shared playlist refused")
	// ErrSharedStale: not taken, and not a fault: older than what this
	// follower has (it crossed a fresher one on the way), or a new segment
	// marked as a gap (a skip is taken from the CDN only).
	ErrSharedStale = errors.New("hls: shared playlist not taken")
)

// maxHosts bounds the set of hosts learnt from the CDN's playlists.
const maxHosts = 32

func (f *Follower) learnHosts(m *Media) {
	if f.hosts == nil || len(f.hosts) > maxHosts {
		f.hosts = map[string]struct{}{}
	}
	for _, s := range m.Segments {
		f.hosts[Origin(s.URL)] = struct{}{}
		if s.Map != nil {
			f.hosts[Origin(s.Map.URL)] = struct{}{}
		}
	}
}

// UpdateShared takes a playlist a peer passed on. Only the CDN starts the
// follower and only the CDN starts a new epoch (encoder restart): a shared
// playlist is accepted if it is not older than the last one seen (media and
// discontinuity sequence), has the CDN's target duration and points only at
// hosts the CDN's own playlists point at. It returns the new segments.
func (f *Follower) UpdateShared(m *Media) ([]Item, error) {
	switch {
	case !f.started:
		return nil, fmt.Errorf("%w: no playlist from the CDN yet", ErrSharedRefused)
	case m.TargetDuration != f.target:
		return nil, fmt.Errorf("%w: target duration %v, the CDN's is %v", ErrSharedRefused, m.TargetDuration, f.target)
	case m.MediaSequence < f.lastMS || m.DiscSeq < f.lastDisc:
		return nil, fmt.Errorf("%w: media sequence %d, discontinuity %d", ErrSharedStale, m.MediaSequence, m.DiscSeq)
	case m.MediaSequence+int64(len(m.Segments)) <= f.lastSeq:
		return nil, nil // nothing new
	}
	for _, s := range m.Segments {
		if s.Gap && s.Seq > f.lastSeq {
			return nil, fmt.Errorf("%w: segment %d is a gap", ErrSharedStale, s.Seq)
		}
		if _, ok := f.hosts[Origin(s.URL)]; !ok {
			return nil, fmt.Errorf("%w: segment on %q", ErrSharedRefused, Origin(s.URL))
		}
		if s.Map != nil {
			if _, ok := f.hosts[Origin(s.Map.URL)]; !ok {
				return nil, fmt.Errorf("%w: init section on %q", ErrSharedRefused, Origin(s.Map.URL))
			}
		}
	}
	return f.take(m), nil
}
