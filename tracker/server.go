package tracker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/time/rate"

	"github.com/p2phls/p2phls/tracker/integrity"
	"github.com/p2phls/p2phls/tracker/peerstore"
)

// ServerConfig is what `p2phls tracker` takes.
type ServerConfig struct {
	Listen    string        // host:port; port 0 picks a free one
	RedisURL  string        // empty: in-memory registry (one node)
	Heartbeat time.Duration // default 10s
	Node      string        // node id, random when empty
	Origins   []string      // allowed WebSocket Origin patterns; empty: any
	// Integrity lists the origins (scheme://host:port) whose playlists the
	// integrity service may fetch; empty: no digests, peers check nothing.
	Integrity  []string
	MinSwarm   int     // P2P only in swarms of at least this many viewers
	ConnsPerIP int     // connections from one address; 0: no limit
	MsgsPerIP  float64 // messages/s from one address; 0: no limit
	Auth       Authorizer
	Logger     *slog.Logger
}

// Server is a tracker node on a listening socket.
type Server struct {
	Tracker   *Tracker
	Addr      string // the address actually bound
	store     peerstore.Store
	srv       *http.Server
	ln        net.Listener
	cancel    context.CancelFunc
	integrity *integrity.Service
	errc      chan error
	log       *slog.Logger
	once      sync.Once
	err       error
}

// Start binds the listener and serves in the background until Close.
func Start(cfg ServerConfig) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	store, bus, err := openStore(cfg.RedisURL)
	if err != nil {
		return nil, err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		NewSwarmCollector(store, 100))
	ctx, cancel := context.WithCancel(context.Background())
	var t *Tracker
	var svc *integrity.Service
	tcfg := Config{Store: store, Bus: bus, Node: cfg.Node, Heartbeat: cfg.Heartbeat, Auth: cfg.Auth,
		MinSwarm: cfg.MinSwarm, ConnsPerIP: cfg.ConnsPerIP, MsgsPerIP: rate.Limit(cfg.MsgsPerIP),
		Logger: cfg.Logger, Metrics: NewMetrics(reg)}
	if len(cfg.Integrity) > 0 {
		svc = integrity.New(integrity.Config{Allow: cfg.Integrity, Logger: cfg.Logger.With("part", "integrity"),
			Publish: func(swarm string, msg []byte) { t.Publish(swarm, msg) }})
		tcfg.Integrity = svc
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "p2phls_integrity_cdn_bytes_total",
			Help: "Bytes the integrity service fetched from origins (CDN bytes spent on checking)."}, func() float64 { return float64(svc.Fetched()) }))
	}
	t, err = New(ctx, tcfg)
	if err != nil {
		cancel()
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		cancel()
		t.Shutdown(context.Background())
		return nil, fmt.Errorf("tracker: listen: %w", err)
	}
	hd, err := t.Handler(ctx, HandlerConfig{Origins: cfg.Origins, Gatherer: reg})
	if err != nil {
		cancel()
		_ = ln.Close()
		t.Shutdown(context.Background())
		return nil, err
	}
	s := &Server{Tracker: t, Addr: ln.Addr().String(), store: store, ln: ln, cancel: cancel, errc: make(chan error, 1), integrity: svc, log: cfg.Logger,
		srv: &http.Server{Handler: hd, ReadHeaderTimeout: 10 * time.Second}}
	go func() { s.errc <- s.srv.Serve(ln) }()
	cfg.Logger.Info("tracker listening", "addr", s.Addr, "node", t.Node(), "store", storeName(cfg.RedisURL))
	return s, nil
}

func storeName(url string) string {
	if url == "" {
		return "memory"
	}
	return "redis"
}

func openStore(url string) (peerstore.Store, peerstore.Bus, error) {
	if url == "" {
		m := peerstore.NewMemory(nil)
		return m, m, nil
	}
	r, err := peerstore.NewRedis(url, "", nil)
	if err != nil {
		return nil, nil, err
	}
	return r, r, nil
}

// Close tells the peers, removes their entries and stops serving.
func (s *Server) Close(ctx context.Context) error {
	s.once.Do(func() { s.err = s.close(ctx) })
	return s.err
}

func (s *Server) close(ctx context.Context) error {
	s.Tracker.Shutdown(ctx)
	if s.integrity != nil {
		s.integrity.Close()
	}
	s.cancel()
	err := s.srv.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		// a client that dialled but never sent a request keeps its connection
		// "new" for 5 s; the caller's deadline wins: close what is left
		s.log.Warn("tracker connections still open at the shutdown deadline: closed", "err", err)
		err = s.srv.Close()
	}
	if serr := <-s.errc; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return errors.Join(err, s.store.Close())
}
