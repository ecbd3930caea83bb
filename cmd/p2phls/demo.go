package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/p2phls/p2phls/origin"
	"github.com/p2phls/p2phls/peer"
	"github.com/p2phls/p2phls/proxy"
	"github.com/p2phls/p2phls/tracker"
)

func runDemo(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	originAddr := fs.String("origin", "127.0.0.1:8081", "origin address")
	trackerAddr := fs.String("tracker", "127.0.0.1:7070", "tracker address")
	webAddr := fs.String("web", "127.0.0.1:8080", "address of the web page (player with the browser peer, swarm overview)")
	viewers := fs.Int("viewers", 3, "native viewers (p2phls peer) started in the demo")
	viewerAddr := fs.String("viewer-listen", "127.0.0.1:8088", "first viewer's proxy address; the others count up from its port (port 0: any)")
	logger := logFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	log, err := logger()
	if err != nil {
		return err
	}
	oln, err := net.Listen("tcp", *originAddr)
	if err != nil {
		return fmt.Errorf("origin: listen: %w", err)
	}
	// the tracker checks the demo origin's segments: every viewer verifies what peers send
	tr, err := tracker.Start(tracker.ServerConfig{Listen: *trackerAddr, Logger: log, Integrity: []string{"http://" + oln.Addr().String()}})
	if err != nil {
		_ = oln.Close()
		return err
	}
	wln, err := net.Listen("tcp", *webAddr)
	if err != nil {
		_ = tr.Close(context.Background())
		_ = oln.Close()
		return fmt.Errorf("web: listen: %w", err)
	}
	playlist, trackerURL := "http://"+oln.Addr().String()+"/live/index.m3u8", "ws://"+tr.Addr+"/v1/ws"
	wcfg, err := webConfig(playlist, trackerURL, "", true)
	if err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		return serveListener(gctx, log, "origin", oln, origin.New(origin.Config{Logger: log, BlockingReload: true}))
	})
	g.Go(func() error { return serveWeb(gctx, log, wln, wcfg) })
	fmt.Fprintf(stdout, `p2phls demo on loopback (Ctrl-C to stop)
  web page       http://%s/                  open it: video + live P2P panel; swarm: http://%s/swarm.html
  live playlist  %s      try: ffplay %s
  tracker        %s                  swarms: curl http://%s/v1/swarms
  metrics        http://%s/metrics
`, wln.Addr(), wln.Addr(), playlist, playlist, trackerURL, tr.Addr, tr.Addr)
	if err := startViewers(gctx, g, log, stdout, *viewers, *viewerAddr, playlist, trackerURL); err != nil {
		_ = tr.Close(context.Background())
		return err
	}
	g.Go(func() error {
		<-gctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return tr.Close(sctx)
	})
	return g.Wait()
}

// startViewers runs n native viewers, each a proxy a player can read.
func startViewers(ctx context.Context, g *errgroup.Group, log *slog.Logger, stdout io.Writer, n int, first, playlist, trackerURL string) error {
	host, port, err := net.SplitHostPort(first)
	if err != nil {
		return fmt.Errorf("--viewer-listen: %w", err)
	}
	p0, err := strconv.Atoi(port)
	if err != nil {
		return fmt.Errorf("--viewer-listen: %w", err)
	}
	for i := range n {
		addr := net.JoinHostPort(host, "0")
		if p0 > 0 {
			addr = net.JoinHostPort(host, strconv.Itoa(p0+i))
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("viewer %d: listen: %w", i, err)
		}
		vlog := log.With("viewer", i)
		srv, err := proxy.New(ctx, proxy.Config{Playlist: playlist, Logger: vlog,
			Node: peer.Config{Tracker: trackerURL, Loopback: true, Logger: vlog}})
		if err != nil {
			_ = ln.Close()
			return err
		}
		g.Go(func() error {
			defer srv.Close()
			return serveListener(ctx, vlog, "viewer", ln, srv.Handler())
		})
		fmt.Fprintf(stdout, "  viewer %d       http://%s/live.m3u8      stats: curl http://%s/stats\n", i, ln.Addr(), ln.Addr())
	}
	return nil
}
