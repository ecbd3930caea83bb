package hls

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"
)

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

// Shared is a playlist a peer passed on.
type Shared struct {
	From string
	Raw  []byte
}

// FollowConfig configures Follow.
type FollowConfig struct {
	URL       string
	Source    *Source
	OnSegment func(Item)
	OnMedia   func(*Media, []byte) // every playlist fetched from the CDN (optional)
	Sleep     Sleeper              // default SleepReal (unused with Shared)
	Logger    *slog.Logger

	// Shared brings playlists from peers (optional). Each is checked
	// (Follower.UpdateShared); its new segments go to OnSegment like the
	// CDN's. OnShared hears of each: err wraps ErrSharedRefused when the
	// sender broke a rule.
	Shared   <-chan Shared
	OnShared func(s Shared, m *Media, err error)
	// Relaxed reports that the CDN may be polled less while shared
	// playlists at the live edge keep coming (one in the last 1.5 target
	// durations): then at least every SafetyNet target durations; nil = never.
	Relaxed   func() bool
	SafetyNet int // default 3
	// Eager reports that this peer wants each new segment the moment the
	// server has it (it roots a stripe: a tree waits on it). When the
	// playlist offers blocking reloads (Media.CanBlockReload), the next
	// reload then goes out at once and asks for the next segment
	// (_HLS_msn, RFC 8216bis §6.2.5.2): the server answers when it exists.
	// nil = never.
	Eager func() bool
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
	if cfg.SafetyNet <= 0 {
		cfg.SafetyNet = 3
	}
	fl := &follow{cfg: cfg, f: NewFollower()}
	backoff := 250 * time.Millisecond
	var prev *Media // the CDN's last playlist
	held := ""      // the next reload's URL when it blocks, else ""
	for {
		m, raw, err := fl.fetch(ctx, held)
		fl.polled = time.Now()
		wait := backoff
		wasHeld := held != ""
		held = ""
		if err != nil {
			cfg.Logger.Warn("playlist refresh failed", "url", cfg.URL, "err", err)
			backoff = min(2*backoff, 8*time.Second)
		} else {
			backoff = 250 * time.Millisecond
			if cfg.OnMedia != nil {
				cfg.OnMedia(m, raw)
			}
			fl.check(m)
			items := fl.f.Update(m)
			for _, it := range items {
				cfg.OnSegment(it)
			}
			if m.Endlist {
				return nil
			}
			wait = max(m.TargetDuration, 500*time.Millisecond)
			moved := changed(prev, m)
			if !moved {
				wait /= 2
			}
			prev = m
			// A held reload that brought nothing new (a server that
			// offers blocking reloads but did not hold this one) is
			// followed by a plain one after the usual wait, never at once.
			if !wasHeld || moved {
				if held = fl.blocking(m); held != "" {
					wait = 0
				}
			}
		}
		if err := fl.wait(ctx, wait); err != nil {
			return err
		}
	}
}

// maxHold bounds how long a blocking reload may be held, whatever target
// duration a playlist claims.
const maxHold = 30 * time.Second

// fetch reloads the playlist: a blocking reload when held is its URL (the
// server may hold it up to three target durations), else a plain one.
func (fl *follow) fetch(ctx context.Context, held string) (*Media, []byte, error) {
	if held == "" {
		return fetchMedia(ctx, fl.cfg.Source, fl.cfg.URL)
	}
	b, err := fl.cfg.Source.FetchHeld(ctx, held, min(3*max(fl.f.target, time.Second), maxHold))
	if err != nil {
		return nil, nil, err
	}
	return parseMedia(fl.cfg.URL, b)
}

// blocking is the URL of a reload the server holds until the segment after
// m's newest exists, when this peer is eager and the server offers it.
func (fl *follow) blocking(m *Media) string {
	if !m.CanBlockReload || fl.cfg.Eager == nil || len(m.Segments) == 0 || !fl.cfg.Eager() {
		return ""
	}
	u, err := url.Parse(fl.cfg.URL)
	if err != nil {
		return ""
	}
	q := u.Query()
	q.Set("_HLS_msn", strconv.FormatInt(m.Segments[len(m.Segments)-1].Seq+1, 10))
	u.RawQuery = q.Encode()
	return u.String()
}

// WithoutDirectives is a playlist URL without the delivery directives a
// player adds to a reload (_HLS_msn, _HLS_part, _HLS_skip): the same
// playlist, whatever it asked of the server.
func WithoutDirectives(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || !strings.Contains(u.RawQuery, "_HLS_") {
		return raw
	}
	q := u.Query()
	for _, k := range []string{"_HLS_msn", "_HLS_part", "_HLS_skip"} {
		q.Del(k)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// changed reports that the CDN's playlist moved since its last one (RFC
// 8216 §6.3.4: reload after half a target duration if it did not). Compared
// with the CDN's own last playlist, not with what peers already told.
func changed(prev, m *Media) bool {
	if prev == nil || len(m.Segments) == 0 || len(prev.Segments) == 0 {
		return true
	}
	return m.Segments[len(m.Segments)-1].Seq > prev.Segments[len(prev.Segments)-1].Seq || m.DiscSeq > prev.DiscSeq
}

// follow is Follow's state between CDN polls.
type follow struct {
	cfg    FollowConfig
	f      *Follower
	polled time.Time // last CDN poll
	fresh  time.Time // last shared playlist at the live edge
	// taken: segments first learnt from a peer's playlist, until the CDN's
	// playlist confirms or contradicts them.
	taken map[int64]takenSeg
}

type takenSeg struct {
	from string
	seg  Segment
}

// differs reports that the CDN lists a segment otherwise than a peer did.
func (t takenSeg) differs(s Segment) bool {
	return t.seg.URL != s.URL || t.seg.Duration != s.Duration || t.seg.Discontinuity != s.Discontinuity ||
		!t.seg.Range.Equal(s.Range)
}

// check compares a CDN playlist with the segments peers announced first: a
// peer that announced a segment the CDN lists otherwise (URL, byte range,
// duration, discontinuity) lied or served another encoder's playlist; it is
// refused then. The segment it
// announced is lost to this viewer — one per liar, who is dropped.
func (fl *follow) check(m *Media) {
	if fl.f.restarts(m) {
		fl.taken = nil // sequence numbers start again: nothing to compare
		return
	}
	for _, s := range m.Segments {
		t, ok := fl.taken[s.Seq]
		if !ok {
			continue
		}
		delete(fl.taken, s.Seq)
		if t.differs(s) && fl.cfg.OnShared != nil {
			fl.cfg.OnShared(Shared{From: t.from}, nil, fmt.Errorf("%w: announced segment %d as %s (%v), the CDN lists %s (%v)",
				ErrSharedRefused, s.Seq, t.seg.URL, t.seg.Duration, s.URL, s.Duration))
		}
	}
	for seq := range fl.taken {
		if seq < m.MediaSequence {
			delete(fl.taken, seq) // slid out unconfirmed (or a new epoch)
		}
	}
}

// wait sleeps d, taking shared playlists meanwhile; at the end of d the CDN
// poll is put off (by one target duration at a time, up to SafetyNet since
// the last poll) while shared playlists keep bringing segments.
func (fl *follow) wait(ctx context.Context, d time.Duration) error {
	if fl.cfg.Shared == nil {
		return fl.cfg.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case s := <-fl.cfg.Shared:
			fl.shared(s)
		case <-t.C:
			if !fl.relaxed() {
				return nil
			}
			t.Reset(max(fl.f.target, 500*time.Millisecond))
		}
	}
}

func (fl *follow) relaxed() bool {
	target := max(fl.f.target, 500*time.Millisecond)
	now := time.Now()
	return fl.cfg.Relaxed != nil && now.Sub(fl.fresh) <= target*3/2 &&
		now.Sub(fl.polled) < time.Duration(fl.cfg.SafetyNet)*target && fl.cfg.Relaxed()
}

func (fl *follow) shared(s Shared) {
	m, _, err := Parse(fl.cfg.URL, s.Raw)
	var items []Item
	switch {
	case err != nil:
		err = errors.Join(ErrSharedRefused, err)
	case m == nil:
		err = ErrSharedRefused
	default:
		items, err = fl.f.UpdateShared(m)
	}
	if err == nil && len(m.Segments) > 0 && m.Segments[len(m.Segments)-1].Seq >= fl.f.lastSeq {
		fl.fresh = time.Now() // at the live edge as this follower knows it
	}
	if fl.cfg.OnShared != nil {
		fl.cfg.OnShared(s, m, err)
	}
	for _, it := range items {
		if fl.taken == nil {
			fl.taken = map[int64]takenSeg{}
		}
		fl.taken[it.Seq] = takenSeg{from: s.From, seg: it.Segment}
		fl.cfg.OnSegment(it)
	}
}
