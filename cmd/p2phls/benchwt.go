package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/p2phls/p2phls/bench"
)

// wantsWebTorrent: `bench tracker` was asked for the WebTorrent protocol.
func wantsWebTorrent(args []string) bool {
	for i, a := range args {
		a = strings.TrimLeft(a, "-")
		if a == "protocol=webtorrent" || a == "protocol" && i+1 < len(args) && args[i+1] == "webtorrent" {
			return true
		}
	}
	return os.Getenv("P2PHLS_PROTOCOL") == "webtorrent"
}

// benchWT is `p2phls bench tracker --protocol webtorrent`: our tracker's
// /announce against bittorrent-tracker's server, the same load generator,
// each server pinned to one core and the generator to another.
func benchWT(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bench tracker --protocol webtorrent", flag.ContinueOnError)
	fs.String("protocol", "webtorrent", "p2phls (our signaling, /v1/ws) or webtorrent (/announce, against bittorrent-tracker)")
	clients := fs.Int("clients", 5000, "idle announced WebSocket clients, in swarms of --swarm")
	swarm := fs.Int("swarm", 20, "clients per info_hash")
	servers := fs.String("servers", "p2phls,bittorrent-tracker", "servers to compare, each optionally with its own environment: p2phls:GOMAXPROCS=1+GOGC=100")
	script := fs.String("bt-script", "bench/bt-tracker.mjs", "the node script that runs bittorrent-tracker's server")
	step := fs.Duration("step", 3*time.Second, "length of each fixed-rate step")
	settle := fs.Duration("settle", 10*time.Second, "idle time after the last announce before each server's memory is read")
	start := fs.Int("start-rate", 1000, "first plain re-announce rate (x1.5 a step until p99 >= 100 ms)")
	maxRate := fs.Int("max-rate", 200000, "highest plain rate tried")
	offerRates := fs.String("offer-rates", "250,500,1000", "announces/s with 5 offers each (server CPU per announce)")
	serverCPU := fs.Int("server-cpu", 1, "core each server is pinned to (taskset); -1: not pinned")
	genCPU := fs.Int("generator-cpu", 0, "core the load generator (this process) is pinned to; -1: not pinned")
	asJSON := fs.Bool("json", false, "print a JSON report")
	svg := fs.String("svg", "", "write a plot of p99 latency against the plain announce rate")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if pin := bench.Pin(*genCPU); pin != nil && os.Getenv("P2PHLS_BENCH_PINNED") == "" {
		return rerunPinned(ctx, pin, args, stdout)
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	var rates []int
	for _, s := range splitList(*offerRates) {
		r, err := strconv.Atoi(s)
		if err != nil {
			return fmt.Errorf("--offer-rates: %w", err)
		}
		rates = append(rates, r)
	}
	cfg := bench.WTConfig{Clients: *clients, SwarmSize: *swarm, StepFor: *step, Settle: *settle, StartRate: *start, MaxRate: *maxRate,
		OfferRates: rates, ServerCPU: *serverCPU, Log: func(f string, a ...any) { fmt.Fprintf(os.Stderr, f+"\n", a...) }}
	for _, name := range splitList(*servers) {
		s, err := wtServer(name, exe, *script)
		if err != nil {
			return err
		}
		cfg.Servers = append(cfg.Servers, s)
	}
	reps, err := bench.RunWT(ctx, cfg)
	if err != nil {
		return err
	}
	if *svg != "" {
		if err := writeFile(*svg, func(w io.Writer) error { return bench.WriteWTSVG(w, reps) }); err != nil {
			return err
		}
	}
	return printWT(stdout, reps, *asJSON)
}

// rerunPinned runs this same command again under taskset.
func rerunPinned(ctx context.Context, pin, args []string, stdout io.Writer) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, pin[0], append(pin[1:], append([]string{exe, "bench", "tracker"}, args...)...)...)
	cmd.Env = append(os.Environ(), "P2PHLS_BENCH_PINNED=1")
	cmd.Stdout, cmd.Stderr = stdout, os.Stderr
	return cmd.Run()
}

// wtServer is one server to compare: "p2phls" or "bittorrent-tracker",
// optionally followed by ":NAME=VALUE+NAME=VALUE..." environment settings
// for it alone (say "p2phls:GOMAXPROCS=1"), to compare settings of one
// server in one run.
func wtServer(spec, exe, script string) (bench.WTServer, error) {
	name, env, err := serverSpec(spec)
	if err != nil {
		return bench.WTServer{}, err
	}
	s, err := wtServerNamed(name, exe, script)
	if err != nil || env == nil {
		return s, err
	}
	start := s.Start
	s.Name = spec
	s.Start = func(pin []string) (*bench.Proc, string, error) {
		return start(append(append(pin, "env"), env...))
	}
	return s, nil
}

// serverSpec splits "name:NAME=VALUE+NAME=VALUE" into the name and the
// environment settings.
func serverSpec(spec string) (name string, env []string, err error) {
	name, envs, found := strings.Cut(spec, ":")
	if !found {
		return name, nil, nil
	}
	for _, kv := range strings.Split(envs, "+") {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			return "", nil, fmt.Errorf("bench tracker: server %q: want NAME=VALUE after the colon, got %q", spec, kv)
		}
		env = append(env, kv)
	}
	return name, env, nil
}

func wtServerNamed(name, exe, script string) (bench.WTServer, error) {
	switch name {
	case "p2phls":
		return bench.WTServer{Name: name, Start: func(pin []string) (*bench.Proc, string, error) {
			args := append(pin, exe, "tracker", "--listen", "127.0.0.1:0", "--log-level", "info", "--max-conns-per-ip", "0", "--max-msgs-per-ip", "0")
			p, err := bench.StartListener(args[0], args[1:]...)
			if err != nil {
				return nil, "", err
			}
			return p, "ws://" + p.Addr + "/announce", nil
		}}, nil
	case "bittorrent-tracker":
		if _, err := os.Stat(script); err != nil {
			return bench.WTServer{}, fmt.Errorf("bittorrent-tracker arm: %w (run from the repository root after npm ci)", err)
		}
		abs, _ := filepath.Abs(script)
		return bench.WTServer{Name: name, Start: func(pin []string) (*bench.Proc, string, error) {
			args := append(pin, "node", abs)
			p, err := bench.StartListener(args[0], args[1:]...)
			if err != nil {
				return nil, "", err
			}
			return p, "ws://" + p.Addr + "/announce", nil
		}}, nil
	}
	return bench.WTServer{}, fmt.Errorf("bench tracker: unknown server %q (p2phls, bittorrent-tracker)", name)
}

func printWT(w io.Writer, reps []bench.WTReport, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"benchmark": "tracker", "protocol": "webtorrent", "servers": reps, "ratios": bench.WTRatios(reps)})
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "server\tclients\tRSS/idle peer B\tplain announces/s (p99<100ms)\tCPU µs/announce with 5 offers (per rate)")
	for _, r := range reps {
		var cpu []string
		for _, o := range r.Offered {
			cpu = append(cpu, fmt.Sprintf("%d/s: %.0f", o.Rate, o.CPUUS))
		}
		fmt.Fprintf(tw, "%s\t%d\t%.0f\t%d\t%s\n", r.Name, r.Clients, r.RSSPerPeer, r.MaxPlainRate, strings.Join(cpu, ", "))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for k, v := range bench.WTRatios(reps) {
		fmt.Fprintf(w, "%s: %.2f\n", k, v)
	}
	return nil
}
