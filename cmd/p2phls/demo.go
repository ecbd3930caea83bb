package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/p2phls/p2phls/origin"
	"github.com/p2phls/p2phls/tracker"
)

func runDemo(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	originAddr := fs.String("origin", "127.0.0.1:8081", "origin address")
	trackerAddr := fs.String("tracker", "127.0.0.1:7070", "tracker address")
	logger := logFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	log, err := logger()
	if err != nil {
		return err
	}
	tr, err := tracker.Start(tracker.ServerConfig{Listen: *trackerAddr, Logger: log})
	if err != nil {
		return err
	}
	oln, err := net.Listen("tcp", *originAddr)
	if err != nil {
		_ = tr.Close(context.Background())
		return fmt.Errorf("origin: listen: %w", err)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return serveListener(gctx, log, "origin", oln, origin.New(origin.Config{Logger: log})) })
	fmt.Fprintf(stdout, `p2phls demo on loopback (Ctrl-C to stop)
  live playlist  http://%s/live/index.m3u8      try: ffplay http://%s/live/index.m3u8
  tracker        ws://%s/v1/ws                  swarms: curl http://%s/v1/swarms
  metrics        http://%s/metrics
`, oln.Addr(), oln.Addr(), tr.Addr, tr.Addr, tr.Addr)
	g.Go(func() error {
		<-gctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return tr.Close(sctx)
	})
	return g.Wait()
}
