package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/p2phls/p2phls/bench"
	"github.com/p2phls/p2phls/engine"
)

// swarmReport is `bench swarm --json`: both arms of one run and the fan-out.
type swarmReport struct {
	Date     string             `json:"date"`
	P2P      bench.SwarmResult  `json:"p2p"`
	CDNOnly  bench.SwarmResult  `json:"cdn_only"`
	Fanout   bench.FanoutResult `json:"fanout"`
	Duration string             `json:"duration"`
	Segment  string             `json:"segment"`
}

func benchSwarm(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bench swarm", flag.ContinueOnError)
	peers := fs.Int("peers", 10, "peer processes per arm")
	dur := fs.Duration("duration", time.Minute, "playback per arm")
	kill := fs.Int("kill", 0, "peers SIGKILLed at half time (P2P arm)")
	children := fs.Int("children", 20, "children in the fan-out measurement (0 = skip)")
	asJSON := fs.Bool("json", false, "print a JSON report")
	share := fs.Bool("share-playlists", false, "P2P arm: peers pass playlists down the trees")
	segment := fs.Duration("segment", 2*time.Second, "the origin's segment duration")
	util := fs.Float64("utilization", 0, "P2P arm: peer --utilization (0: the peer's default)")
	maxUpload := fs.String("max-upload", "0", "P2P arm: peer --max-upload, which also paces each peer's sends (0: uncapped)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	if err := engine.CheckUtilization(*util); err != nil {
		return fmt.Errorf("bench swarm: --utilization %w", err)
	}
	upload, err := parseRate(*maxUpload)
	if err != nil {
		return fmt.Errorf("bench swarm: --max-upload: %w", err)
	}
	var peerArgs []string
	if *util > 0 {
		peerArgs = []string{"--utilization", strconv.FormatFloat(*util, 'g', -1, 64)}
	}
	if upload > 0 {
		peerArgs = append(peerArgs, "--max-upload", strconv.FormatInt(upload, 10))
	}
	rep := swarmReport{Date: time.Now().UTC().Format(time.RFC3339), Duration: dur.String(), Segment: segment.String()}
	if rep.P2P, err = bench.RunSwarm(ctx, bench.SwarmConfig{Bin: exe, Peers: *peers, Duration: *dur, Kill: *kill, SharePlaylists: *share,
		Segment: *segment, PeerArgs: peerArgs}); err != nil {
		return err
	}
	if rep.CDNOnly, err = bench.RunSwarm(ctx, bench.SwarmConfig{Bin: exe, Peers: *peers, Duration: *dur, CDNOnly: true, Segment: *segment}); err != nil {
		return err
	}
	if *children > 0 {
		if rep.Fanout, err = bench.RunFanout(ctx, exe, *children, 5*time.Second); err != nil {
			return err
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "arm\tpeers\toffload\tstalls\tdelay p50 ms\tdelay p95 ms\tage p50 ms\tage p95 ms\tCPU/peer\tRSS/peer MB\twire overhead\tmessage overhead\tlink set-up ms\tlink failures")
	for _, r := range []bench.SwarmResult{rep.P2P, rep.CDNOnly} {
		arm := "p2p"
		if r.CDNOnly {
			arm = "cdn-only"
		}
		fmt.Fprintf(tw, "%s\t%d\t%.3f\t%d\t%.0f\t%.0f\t%.0f\t%.0f\t%.3f\t%.1f\t%.4f\t%.4f\t%.0f\t%d\n", arm, r.Peers, r.Offload, r.Stalls,
			r.DelayP50MS, r.DelayP95MS, r.AgeP50MS, r.AgeP95MS, r.CPUPerPeer, float64(r.RSSPerPeer)/1e6, r.ControlOverhead, r.MessageOverhead,
			r.LinkSetupMS, r.LinkFailures)
	}
	_ = tw.Flush()
	fmt.Fprintf(stdout, "extra delay from publication (P2P age − CDN-only age): p50 %.0f ms, p95 %.0f ms\n",
		rep.P2P.AgeP50MS-rep.CDNOnly.AgeP50MS, rep.P2P.AgeP95MS-rep.CDNOnly.AgeP95MS)
	if *children > 0 {
		fmt.Fprintf(stdout, "fan-out: one peer to %d children (in another process): %.0f Mbit/s, the sender using %.2f cores\n",
			rep.Fanout.Children, rep.Fanout.Mbps, rep.Fanout.SenderCPU)
	}
	return nil
}

func benchFanoutChildren(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bench fanout-children", flag.ContinueOnError)
	url := fs.String("tracker", "", "tracker WebSocket URL")
	sender := fs.String("sender", "", "the sender's peer id")
	children := fs.Int("children", 20, "children")
	dur := fs.Duration("duration", time.Minute, "stop after this long at the latest")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *dur)
	defer cancel()
	return bench.FanoutChildren(ctx, *url, *sender, *children, stdout)
}
