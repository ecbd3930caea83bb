package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"time"

	"github.com/p2phls/p2phls/tracker"
	"github.com/p2phls/p2phls/tracker/token"
)

func runTracker(ctx context.Context, args []string, _ io.Writer) error {
	fs := flag.NewFlagSet("tracker", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:7070", "address to serve HTTP and WebSocket on")
	redisURL := fs.String("redis", "", "Redis URL (redis://host:port/db) shared by several tracker nodes; empty: in-memory registry")
	hb := fs.Duration("heartbeat", 10*time.Second, "heartbeat interval; a peer vanishes after two without news")
	node := fs.String("node", "", "node id (random when empty)")
	origins := fs.String("origins", "", "comma-separated allowed WebSocket Origin host patterns (empty: any)")
	integ := fs.String("integrity", "", "origins (http://host:port, comma-separated) whose playlists the integrity service may fetch to publish digests; empty: off")
	secret := fs.String("secret", "", "HMAC secret: joining needs a token made by `p2phls token` (prefer env P2PHLS_SECRET)")
	minSwarm := fs.Int("min-swarm", 0, "P2P only in swarms with at least this many viewers (smaller ones get no peer lists)")
	perIP := fs.Int("max-conns-per-ip", 1000, "WebSocket connections allowed from one address (0: no limit)")
	ipRate := fs.Float64("max-msgs-per-ip", 500, "messages per second allowed from one address, all its connections together (0: no limit)")
	gcPct := fs.Int("gc-percent", 50, "Go's GC target (GOGC) for this process, unless GOGC is set: the heap is mostly long-lived connection state, so 50 keeps about a fifth less memory per idle peer than Go's 100 for a little more CPU per message (docs/BENCHMARKS.md)")
	logger := logFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	log, err := logger()
	if err != nil {
		return err
	}
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(*gcPct)
	}
	cfg := tracker.ServerConfig{Listen: *listen, RedisURL: *redisURL, Heartbeat: *hb, Node: *node,
		Origins: splitList(*origins), Integrity: splitList(*integ), MinSwarm: *minSwarm, ConnsPerIP: *perIP,
		MsgsPerIP: *ipRate, Logger: log}
	if *secret != "" {
		cfg.Auth = token.Authorizer([]byte(*secret), time.Now)
	}
	srv, err := tracker.Start(cfg)
	if err != nil {
		return err
	}
	<-ctx.Done()
	log.Info("tracker shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Close(sctx)
}

// runToken prints a join token for trackers run with --secret.
func runToken(_ context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	secret := fs.String("secret", "", "the tracker's HMAC secret (prefer env P2PHLS_SECRET)")
	swarm := fs.String("swarm", "", "the swarm id the token admits to, or * for any")
	ttl := fs.Duration("ttl", time.Hour, "how long the token is valid")
	peer := fs.String("peer", "", "pin the peer id its holder gets (bans then stick to it)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *secret == "" || *swarm == "" || *ttl <= 0 {
		return fmt.Errorf("token: --secret, --swarm and a positive --ttl are required")
	}
	fmt.Fprintln(stdout, token.Make([]byte(*secret), token.Claims{Swarm: *swarm, Expiry: time.Now().Add(*ttl).Unix(), Peer: *peer}))
	return nil
}
