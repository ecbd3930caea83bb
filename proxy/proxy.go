// Package proxy serves any HLS player from p2phls peers: GET /live.m3u8 is
// the stream (a media playlist, or a master playlist whose renditions are
// each their own swarm under /r/{i}/), segments come from the engine as soon
// as they are ready. GET /stats and /metrics tell how.
package proxy

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/p2phls/p2phls/hls"
	"github.com/p2phls/p2phls/peer"
)

// ErrNoRendition is returned for a rendition index the master does not have.
var ErrNoRendition = errors.New("proxy: no such rendition")

// Config of a Server.
type Config struct {
	Playlist string      // the upstream playlist (media or master)
	Node     peer.Config // template for each rendition's node (Playlist and Swarm are set per rendition)
	Idle     time.Duration
	Logger   *slog.Logger
}

// Server is the proxy.
type Server struct {
	cfg    Config
	ctx    context.Context
	master []byte // rewritten master playlist; nil for a media playlist
	rends  []*rendition
	wg     sync.WaitGroup
	mu     sync.Mutex
	closed bool
}

type rendition struct {
	url    string
	mu     sync.Mutex
	node   *peer.Node
	cancel context.CancelFunc
	last   time.Time
}

// New fetches the upstream playlist once to learn whether it is a master
// playlist. A media playlist's node starts at once; a master's renditions
// start when the player first asks for them and stop after Idle (default
// 60s) without a request, so switching bitrate joins the other swarm.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Idle <= 0 {
		cfg.Idle = time.Minute
	}
	src := hls.NewSource(hls.SourceConfig{Servers: cfg.Node.Sources, Client: cfg.Node.HTTPClient, Rounds: 4, Logger: cfg.Logger})
	b, err := src.Fetch(ctx, cfg.Playlist, nil)
	if err != nil {
		return nil, fmt.Errorf("proxy: upstream playlist: %w", err)
	}
	media, master, err := hls.Parse(cfg.Playlist, b)
	if err != nil {
		return nil, fmt.Errorf("proxy: upstream playlist: %w", err)
	}
	s := &Server{cfg: cfg, ctx: ctx}
	if media != nil {
		s.rends = []*rendition{{url: cfg.Playlist}}
		if _, err := s.node(0); err != nil {
			return nil, err
		}
		return s, nil
	}
	for _, v := range master.Variants {
		s.rends = append(s.rends, &rendition{url: v.URL})
	}
	s.master, err = rewriteMaster(cfg.Playlist, b, s.rends)
	if err != nil {
		return nil, err
	}
	go s.reap()
	return s, nil
}

// node returns rendition i's node, starting it if needed.
func (s *Server) node(i int) (*peer.Node, error) {
	if i < 0 || i >= len(s.rends) {
		return nil, ErrNoRendition
	}
	r := s.rends[i]
	r.mu.Lock()
	defer r.mu.Unlock()
	r.last = time.Now()
	if r.node != nil {
		return r.node, nil
	}
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return nil, peer.ErrClosed
	}
	nc := s.cfg.Node
	nc.Playlist, nc.Swarm = r.url, ""
	if s.cfg.Node.Swarm != "" && len(s.rends) > 1 {
		nc.Swarm = fmt.Sprintf("%s.r%d", s.cfg.Node.Swarm, i)
	} else {
		nc.Swarm = s.cfg.Node.Swarm
	}
	nc.Logger = s.cfg.Logger.With("rendition", i)
	n, err := peer.New(nc)
	if err != nil {
		return nil, fmt.Errorf("proxy: rendition %d: %w", i, err)
	}
	ctx, cancel := context.WithCancel(s.ctx)
	r.node, r.cancel = n, cancel
	s.wg.Go(func() {
		if err := n.Run(ctx); err != nil {
			s.cfg.Logger.Error("rendition stopped", "rendition", i, "err", err)
		}
	})
	s.cfg.Logger.Info("rendition started", "rendition", i, "playlist", r.url)
	return n, nil
}

// reap stops master renditions nobody asked for in Idle.
func (s *Server) reap() {
	t := time.NewTicker(s.cfg.Idle / 4)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
		for i, r := range s.rends {
			r.mu.Lock()
			if r.node != nil && time.Since(r.last) > s.cfg.Idle {
				s.cfg.Logger.Info("rendition idle: leaving its swarm", "rendition", i)
				r.cancel()
				r.node = nil
			}
			r.mu.Unlock()
		}
	}
}

// Close stops every rendition (each leaves its swarm cleanly) and waits.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	for _, r := range s.rends {
		r.mu.Lock()
		if r.cancel != nil {
			r.cancel()
		}
		r.mu.Unlock()
	}
	s.wg.Wait()
}

// Nodes returns the running renditions' nodes by index (nil when stopped).
func (s *Server) Nodes() []*peer.Node {
	out := make([]*peer.Node, len(s.rends))
	for i, r := range s.rends {
		r.mu.Lock()
		out[i] = r.node
		r.mu.Unlock()
	}
	return out
}

var uriAttr = regexp.MustCompile(`URI="([^"]*)"`)

// rewriteMaster points every rendition of the master at /r/{i}/live.m3u8,
// keeping every other line and attribute as it was.
func rewriteMaster(base string, b []byte, rends []*rendition) ([]byte, error) {
	index := func(ref string) (string, error) {
		u, err := hls.Resolve(base, ref)
		if err != nil {
			return "", err
		}
		for i, r := range rends {
			if r.url == u {
				return fmt.Sprintf("r/%d/live.m3u8", i), nil
			}
		}
		return "", fmt.Errorf("%w: %s", ErrNoRendition, ref)
	}
	var out bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "":
			continue
		case !strings.HasPrefix(line, "#"):
			l, err := index(line)
			if err != nil {
				return nil, err
			}
			line = l
		case strings.HasPrefix(line, "#EXT-X-I-FRAME-STREAM-INF:"):
			continue // trick play is not proxied
		case strings.HasPrefix(line, "#EXT-X-MEDIA:"):
			var ferr error
			line = uriAttr.ReplaceAllStringFunc(line, func(m string) string {
				l, err := index(uriAttr.FindStringSubmatch(m)[1])
				if err != nil {
					ferr = err
					return m
				}
				return `URI="` + l + `"`
			})
			if ferr != nil {
				return nil, ferr
			}
		}
		out.WriteString(line + "\n")
	}
	return out.Bytes(), sc.Err()
}
