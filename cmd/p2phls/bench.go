package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/p2phls/p2phls/bench"
)

func runBench(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("bench: which? tracker | swarm")
	}
	switch args[0] {
	case "tracker":
		if wantsWebTorrent(args[1:]) {
			return benchWT(ctx, args[1:], stdout)
		}
		return benchTracker(ctx, args[1:], stdout)
	case "swarm":
		return benchSwarm(ctx, args[1:], stdout)
	case "fanout-children":
		return benchFanoutChildren(ctx, args[1:], stdout)
	case "tracker-worker":
		return benchTrackerWorker(ctx, args[1:], stdout)
	}
	return fmt.Errorf("bench: unknown benchmark %q", args[0])
}

func benchTracker(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bench tracker", flag.ContinueOnError)
	clients := fs.Int("clients", 5000, "WebSocket clients (each joins a swarm of 20)")
	fs.String("protocol", "p2phls", "p2phls (our signaling, /v1/ws) or webtorrent (/announce, against bittorrent-tracker)")
	arms := fs.String("arms", "memory,redis3", "arms to run: memory (1 node, in-memory store), redis3 (3 nodes on one Redis)")
	relays := fs.Int("relays", 5000, "signals relayed after the joins")
	rate := fs.Int("rate", 2000, "signals per second")
	perProc := fs.Int("per-process", 15000, "clients per load-generator process (20,000 open files a process)")
	asJSON := fs.Bool("json", false, "print a JSON report")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "p2phls-bench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	var reports []bench.TrackerReport
	for _, arm := range splitList(*arms) {
		cfg := bench.TrackerConfig{Exe: exe, Name: arm, Clients: *clients, Nodes: 1, Relays: *relays, RelayRate: *rate, PerProcess: *perProc, TmpDir: tmp}
		switch arm {
		case "memory":
		case "redis3":
			cfg.Nodes, cfg.Redis = 3, true
		default:
			return fmt.Errorf("bench tracker: unknown arm %q", arm)
		}
		r, err := bench.RunTracker(ctx, cfg)
		if err != nil {
			return fmt.Errorf("arm %s: %w", arm, err)
		}
		reports = append(reports, r)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"benchmark": "tracker", "arms": reports})
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "arm\tclients\tjoins/s\trelay p50 ms\trelay p99 ms\tRSS/idle peer B\tjoin errors\tlost")
	for _, r := range reports {
		fmt.Fprintf(tw, "%s\t%d\t%.0f\t%.2f\t%.2f\t%.0f\t%d\t%d\n", r.Name, r.Clients, r.JoinsPerSec, r.RelayP50Ms, r.RelayP99Ms, r.RSSPerPeer, r.JoinErrors, r.RelaysLost)
	}
	return tw.Flush()
}

func benchTrackerWorker(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bench tracker-worker", flag.ContinueOnError)
	trackers := fs.String("trackers", "", "tracker addresses")
	clients := fs.Int("clients", 0, "clients")
	offset := fs.Int("offset", 0, "index of the first client")
	relays := fs.Int("relays", 0, "signals")
	rate := fs.Int("rate", 1000, "signals per second")
	src := fs.String("src", "", "source addresses")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg := bench.LoadConfig{Trackers: strings.Split(*trackers, ","), Clients: *clients, Offset: *offset, Relays: *relays,
		RelayRate: *rate, SourceIPs: splitList(*src), SwarmSize: 20, Concurrent: 64}
	return bench.Worker(ctx, cfg, os.Stdin, stdout)
}
