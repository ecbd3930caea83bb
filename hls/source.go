package hls

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Source errors.
var (
	ErrTooLarge  = errors.New("hls: body exceeds the maximum size")
	ErrBadStatus = errors.New("hls: bad HTTP status")
	ErrBadRange  = errors.New("hls: server answered a different range")
)

// SourceConfig configures a Source. Zero values take the defaults noted.
type SourceConfig struct {
	// Servers replace the scheme and host of every URL fetched, tried in
	// round robin order with failover (the seed's source_servers), e.g.
	// "http://cdn1:8080". Empty: URLs are fetched as they are.
	Servers []string
	Client  Doer // default: an http.Client (in the browser: fetch)
	// Attempt bounds one request to one server, headers and body: past it the
	// server counts as slow and the next one is tried. Default 4s.
	Attempt time.Duration
	// Rounds is how many times the whole server list is tried. Default 2.
	Rounds int
	// Backoff between rounds, doubling. Default 100ms.
	Backoff time.Duration
	// MaxBody is the largest body accepted. Default 64 MiB.
	MaxBody int64
	Logger  *slog.Logger
}

// Doer sends HTTP requests: an *http.Client, or the browser's fetch.
type Doer interface {
	Do(*http.Request) (*http.Response, error)
}

// SourceStats are a Source's counters.
type SourceStats struct {
	Requests  int64 `json:"requests"`
	Failures  int64 `json:"failures"`
	Failovers int64 `json:"failovers"`
	Bytes     int64 `json:"bytes"`
}

// Source fetches playlists and segments from the CDN: ordered servers, round
// robin, failover on error, timeout or slowness, retries with backoff.
type Source struct {
	cfg                                   SourceConfig
	next                                  atomic.Uint64
	requests, failures, failovers, nbytes atomic.Int64
}

// NewSource returns a Source.
func NewSource(cfg SourceConfig) *Source {
	if cfg.Client == nil {
		cfg.Client = defaultDoer()
	}
	if cfg.Attempt <= 0 {
		cfg.Attempt = 4 * time.Second
	}
	if cfg.Rounds <= 0 {
		cfg.Rounds = 2
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = 100 * time.Millisecond
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 64 << 20
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Source{cfg: cfg}
}

// Stats returns the counters.
func (s *Source) Stats() SourceStats {
	return SourceStats{s.requests.Load(), s.failures.Load(), s.failovers.Load(), s.nbytes.Load()}
}

// targets lists the URLs to try for raw, in this request's server order.
func (s *Source) targets(raw string) ([]string, error) {
	if len(s.cfg.Servers) == 0 {
		return []string{raw}, nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("hls: url %q: %w", raw, err)
	}
	start := int(s.next.Add(1)-1) % len(s.cfg.Servers)
	out := make([]string, len(s.cfg.Servers))
	for i := range out {
		srv, err := url.Parse(s.cfg.Servers[(start+i)%len(s.cfg.Servers)])
		if err != nil {
			return nil, fmt.Errorf("hls: source server: %w", err)
		}
		v := *u
		v.Scheme, v.Host = srv.Scheme, srv.Host
		out[i] = v.String()
	}
	return out, nil
}

// Fetch returns the resource at raw, or the byte range r of it when r is not
// nil, from the first server that delivers it in time.
func (s *Source) Fetch(ctx context.Context, raw string, r *ByteRange) ([]byte, error) {
	b, _, err := s.Get(ctx, raw, r)
	return b, err
}

// Get is Fetch that also returns the resource's total size (from
// Content-Range for a range; -1 when the server did not say).
func (s *Source) Get(ctx context.Context, raw string, r *ByteRange) ([]byte, int64, error) {
	return s.get(ctx, raw, r, 0)
}

// FetchHeld is Fetch of a request the server may hold up to hold before it
// answers (a blocking playlist reload): each attempt may take that much
// longer.
func (s *Source) FetchHeld(ctx context.Context, raw string, hold time.Duration) ([]byte, error) {
	b, _, err := s.get(ctx, raw, nil, hold)
	return b, err
}

func (s *Source) get(ctx context.Context, raw string, r *ByteRange, hold time.Duration) ([]byte, int64, error) {
	urls, err := s.targets(raw)
	if err != nil {
		return nil, 0, err
	}
	var errs []error
	backoff := s.cfg.Backoff
	for round := range s.cfg.Rounds {
		for i, u := range urls {
			if round > 0 || i > 0 {
				s.failovers.Add(1)
			}
			b, total, err := s.attempt(ctx, u, r, hold)
			if err == nil {
				return b, total, nil
			}
			s.failures.Add(1)
			s.cfg.Logger.Debug("source attempt failed", "url", u, "err", err)
			errs = append(errs, err)
			if ctx.Err() != nil {
				return nil, 0, fmt.Errorf("hls: fetch %s: %w", raw, errors.Join(append(errs, ctx.Err())...))
			}
		}
		select {
		case <-time.After(backoff):
			backoff *= 2
		case <-ctx.Done():
			return nil, 0, fmt.Errorf("hls: fetch %s: %w", raw, errors.Join(append(errs, ctx.Err())...))
		}
	}
	return nil, 0, fmt.Errorf("hls: fetch %s: every source failed: %w", raw, errors.Join(errs...))
}

func (s *Source) attempt(ctx context.Context, u string, r *ByteRange, hold time.Duration) ([]byte, int64, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Attempt+hold)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, 0, err
	}
	if r != nil {
		req.Header.Set("Range", r.Header())
	}
	s.requests.Add(1)
	resp, err := s.cfg.Client.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	if err := checkStatus(resp, r); err != nil {
		return nil, 0, err
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, s.cfg.MaxBody+1))
	s.nbytes.Add(int64(len(b)))
	if err != nil {
		return nil, 0, err
	}
	if int64(len(b)) > s.cfg.MaxBody {
		return nil, 0, fmt.Errorf("%w (%d)", ErrTooLarge, s.cfg.MaxBody)
	}
	total := int64(len(b))
	if resp.StatusCode == http.StatusPartialContent {
		total = contentRangeTotal(resp.Header.Get("Content-Range"))
	}
	if r != nil && resp.StatusCode == http.StatusOK { // server ignored Range: cut it here
		if r.Start+r.Length > int64(len(b)) {
			return nil, 0, fmt.Errorf("%w: range %s of a %d-byte body", ErrBadRange, r.Header(), len(b))
		}
		b = b[r.Start : r.Start+r.Length]
	}
	if r != nil && int64(len(b)) != r.Length {
		return nil, 0, fmt.Errorf("%w: got %d bytes, want %d", ErrBadRange, len(b), r.Length)
	}
	return b, total, nil
}

func checkStatus(resp *http.Response, r *ByteRange) error {
	switch {
	case resp.StatusCode == http.StatusOK:
		return nil
	case resp.StatusCode == http.StatusPartialContent && r != nil:
		start, ok := contentRangeStart(resp.Header.Get("Content-Range"))
		if !ok || start != r.Start {
			return fmt.Errorf("%w: asked %s, got %q", ErrBadRange, r.Header(), resp.Header.Get("Content-Range"))
		}
		return nil
	}
	return fmt.Errorf("%w: %s", ErrBadStatus, resp.Status)
}

// contentRangeStart parses "bytes START-END/SIZE".
func contentRangeStart(h string) (int64, bool) {
	rest, ok := strings.CutPrefix(h, "bytes ")
	if !ok {
		return 0, false
	}
	a, _, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(a, 10, 64)
	return n, err == nil
}

// contentRangeTotal parses SIZE of "bytes START-END/SIZE"; -1 when absent or "*".
func contentRangeTotal(h string) int64 {
	_, t, ok := strings.Cut(h, "/")
	if !ok {
		return -1
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 {
		return -1
	}
	return n
}
