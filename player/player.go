// Package player is a model HLS player for tests and benchmarks: it reads a
// live media playlist over HTTP the way hls.js does (start a few segments
// behind the live edge, fetch each new segment in order), plays in real
// time, and records stalls and the SHA-256 of every segment it got.
package player

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/p2phls/p2phls/hls"
)

// Config of a Play.
type Config struct {
	URL         string // the media playlist
	StartBehind int    // segments behind the live edge to start at, default 3
	Client      *http.Client
}

// Segment is one segment the player received.
type Segment struct {
	URL  string
	Size int
	SHA  [32]byte
	At   time.Time
}

// Result of a Play.
type Result struct {
	Segments  []Segment
	Stalls    int           // times the buffer ran dry after playback started
	StallTime time.Duration // total time spent stalled
	Startup   time.Duration // first playlist request → playback start
	Errors    int           // failed requests
}

// Play plays until ctx ends or the playlist ends.
func Play(ctx context.Context, cfg Config) (Result, error) {
	if cfg.StartBehind <= 0 {
		cfg.StartBehind = 3
	}
	if cfg.Client == nil {
		cfg.Client = http.DefaultClient
	}
	p := &state{cfg: cfg, begin: time.Now(), next: -1}
	for ctx.Err() == nil {
		m, err := p.playlist(ctx)
		if err != nil {
			p.res.Errors++
			sleep(ctx, 200*time.Millisecond)
			continue
		}
		if err := p.fetchNew(ctx, m); err != nil && ctx.Err() == nil {
			return p.res, err
		}
		if m.Endlist {
			break
		}
		sleep(ctx, max(m.TargetDuration/2, 100*time.Millisecond))
	}
	return p.res, nil
}

type state struct {
	cfg     Config
	res     Result
	begin   time.Time
	next    int64         // next media sequence to fetch
	started time.Time     // playback start
	content time.Duration // media time downloaded
	stalled time.Duration
}

func (p *state) playlist(ctx context.Context) (*hls.Media, error) {
	b, err := p.get(ctx, p.cfg.URL)
	if err != nil {
		return nil, err
	}
	m, _, err := hls.Parse(p.cfg.URL, b)
	if err != nil {
		return nil, err
	}
	if m == nil {
		return nil, hls.ErrNotMedia
	}
	return m, nil
}

func (p *state) fetchNew(ctx context.Context, m *hls.Media) error {
	segs := m.Segments
	if p.next < 0 && len(segs) > 0 {
		p.next = segs[max(0, len(segs)-p.cfg.StartBehind)].Seq
	}
	for _, s := range segs {
		if s.Seq < p.next {
			continue
		}
		if s.Seq > p.next && p.next >= 0 {
			return fmt.Errorf("player: segment %d left the playlist before it was fetched (now at %d)", p.next, s.Seq)
		}
		b, err := p.get(ctx, s.URL)
		if err != nil {
			p.res.Errors++
			return nil // try again on the next playlist
		}
		p.got(s, b)
		p.next = s.Seq + 1
	}
	return nil
}

// got plays segment s: a stall if the playhead reached the end of the
// buffer before it came.
func (p *state) got(s hls.Segment, b []byte) {
	now := time.Now()
	if p.started.IsZero() {
		p.started = now
		p.res.Startup = now.Sub(p.begin)
	} else if dry := p.started.Add(p.content + p.stalled); now.After(dry) {
		p.res.Stalls++
		p.stalled += now.Sub(dry)
		p.res.StallTime = p.stalled
	}
	p.content += s.Duration
	p.res.Segments = append(p.res.Segments, Segment{URL: s.URL, Size: len(b), SHA: sha256.Sum256(b), At: now})
}

func (p *state) get(ctx context.Context, u string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := p.cfg.Client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("player: %s: %s", u, resp.Status)
	}
	return io.ReadAll(io.LimitReader(resp.Body, 64<<20))
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
