package main

import (
	"context"
	"flag"
	"io"
	"time"

	"github.com/p2phls/p2phls/tracker"
)

func runTracker(ctx context.Context, args []string, _ io.Writer) error {
	fs := flag.NewFlagSet("tracker", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:7070", "address to serve HTTP and WebSocket on")
	redisURL := fs.String("redis", "", "Redis URL (redis://host:port/db) shared by several tracker nodes; empty: in-memory registry")
	hb := fs.Duration("heartbeat", 10*time.Second, "heartbeat interval; a peer vanishes after two without news")
	node := fs.String("node", "", "node id (random when empty)")
	origins := fs.String("origins", "", "comma-separated allowed WebSocket Origin host patterns (empty: any)")
	integ := fs.String("integrity", "", "origins (http://host:port, comma-separated) whose playlists the integrity service may fetch to publish digests; empty: off")
	logger := logFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	log, err := logger()
	if err != nil {
		return err
	}
	srv, err := tracker.Start(tracker.ServerConfig{Listen: *listen, RedisURL: *redisURL, Heartbeat: *hb, Node: *node,
		Origins: splitList(*origins), Integrity: splitList(*integ), Logger: log})
	if err != nil {
		return err
	}
	<-ctx.Done()
	log.Info("tracker shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Close(sctx)
}
