package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"time"

	"github.com/p2phls/p2phls/engine"
	"github.com/p2phls/p2phls/sim"
)

// startCPUProfile profiles this process into path until stop is called.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpuprofile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

func runSim(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("sim", flag.ContinueOnError)
	var c sim.Config
	fs.IntVar(&c.Peers, "peers", 30, "viewers")
	fs.DurationVar(&c.Duration, "duration", time.Minute, "stream time simulated after the joins")
	fs.DurationVar(&c.Segment, "segment", 2*time.Second, "segment duration")
	bitrate := fs.Float64("bitrate", 2, "stream rate, Mbit/s")
	fs.IntVar(&c.Stripes, "stripes", 4, "stripes per segment")
	fs.DurationVar(&c.RTT, "rtt", 20*time.Millisecond, "round trip between peers")
	fs.DurationVar(&c.Jitter, "jitter", 0, "one-way jitter, 0..this")
	fs.Float64Var(&c.Loss, "loss", 0, "packet loss (each costs one more RTT)")
	upload := fs.Float64("upload", 2, "every peer's upload, × the stream rate (ignored with --mixed)")
	mixed := fs.Bool("mixed", false, "40% at 2×, 40% at 0.7×, 10% unreachable, 10% consume-only")
	fs.Float64Var(&c.ChurnPerMin, "churn", 0, "share of viewers replaced per minute")
	fs.DurationVar(&c.JoinOver, "join-over", 20*time.Second, "joins spread over this")
	fs.Uint64Var(&c.Seed, "seed", 1, "random seed")
	fs.BoolVar(&c.Verify, "verify", false, "compare every delivered segment with the origin's bytes")
	fs.BoolVar(&c.ControlFirst, "control-first", false, "control messages skip the sender's media queue")
	fs.BoolVar(&c.FIFOUplink, "fifo-uplink", false, "each viewer's upload is one first-in first-out queue for all its links (default: a queue per link, served in turn)")
	fs.BoolVar(&c.PlainTurns, "plain-turns", false, "the per-link upload serves every link in turn alike (default: pushes to children that forward them go first, as the transport's paced uplink sends them)")
	fs.Float64Var(&c.Utilization, "utilization", 0, "share of each viewer's upload given to children (0 = engine default 0.8)")
	fs.IntVar(&c.Neighbours, "neighbours", 12, "links each viewer asks the tracker for")
	fs.IntVar(&c.MaxConns, "max-links", 30, "links a viewer accepts in all")
	fs.DurationVar(&c.Deadline, "deadline", 0, "a viewer's player needs a segment this long after it appears (0 = engine default: 2 segments, at least 2 s)")
	block := fs.Bool("blocking-reload", true, "viewers that root a stripe learn of each segment by a blocking playlist reload (false: they poll as the others)")
	fs.IntVar(&c.PieceSize, "piece", 0, "bytes per PIECE (0 = engine default: 16 KiB from 2 s segments, 4 KiB for 1 s ones)")
	fs.IntVar(&c.MaxDepth, "max-depth", 0, fmt.Sprintf("tree depth bound (0 = engine default %d)", engine.DefaultMaxDepth))
	fs.IntVar(&c.StartWith, "start-with", 0, "players start this many segments behind the live edge (0: 3; hls.js holds back 3 target durations, 6 segments of 0.5 s)")
	fs.BoolVar(&c.RealMargins, "real-margins", false, "viewers start CDN completions as long before the player's turn as real peers do (0.5 s plus the player's reload period)")
	fs.BoolVar(&c.PlayerReloads, "player-reloads", false, "a viewer's player sees a ready segment only at its next playlist reload, once a segment duration (both arms)")
	fs.BoolVar(&c.LeafPull, "leaf-pull", false, "viewers that root a stripe with no child in it pull it from neighbours' spare upload instead of the CDN (less CDN, more delay)")
	climb := fs.Bool("climb", true, "a viewer that extends a stripe tree moves up to a neighbour's slot two or more levels shallower (false: it keeps its upstream)")
	fs.BoolVar(&c.SharePlaylists, "share-playlists", false, "viewers pass playlists down the stripe trees (peer --share-playlists)")
	fs.IntVar(&c.Parts, "parts", sim.DefaultParts, "event loops the viewers are split over, each on its own goroutine (a seed replays exactly for a given number)")
	asJSON := fs.Bool("json", false, "print the JSON report")
	svg := fs.String("svg", "", "write a plot of offload and stalls over time to this file")
	cpuProf := fs.String("cpuprofile", "", "write a CPU profile of the run to this file (go tool pprof)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *cpuProf != "" {
		stop, err := startCPUProfile(*cpuProf)
		if err != nil {
			return err
		}
		defer stop()
	}
	c.Bitrate = int64(*bitrate * 1e6 / 8)
	c.PollOnly, c.NoClimb = !*block, !*climb
	c.Classes = []sim.Class{{Share: 1, Upload: *upload}}
	if *mixed {
		c.Classes = sim.MixedClasses()
	}
	r, err := sim.RunContext(ctx, c)
	if err != nil {
		return err
	}
	if *svg != "" {
		if err := writeFile(*svg, func(w io.Writer) error { return sim.WriteSVG(w, r) }); err != nil {
			return err
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	fmt.Fprintf(stdout, "peers %d (viewers %d)  offload %.3f (ceiling %.3f, upload %.3f)  stalls %d (ratio %.5f) vs CDN-only %d (%.5f)\n",
		r.Peers, r.Viewers, r.Offload, r.Ceiling, r.UploadCeiling, r.Stalls, r.StallRatio, r.CDNOnly.Stalls, r.CDNOnly.StallRatio)
	if r.BytesCDN > 0 {
		pc := func(b int64) float64 { return 100 * float64(b) / float64(r.BytesCDN) }
		fmt.Fprintf(stdout, "CDN bytes: %.0f%% fast start, %.0f%% root stripes, %.0f%% deadline completions (%.0f%% newcomers' backlog)\n",
			pc(r.CDNStart), pc(r.CDNRoot), pc(r.CDNDeadline), pc(r.CDNBacklog))
	}
	fmt.Fprintf(stdout, "extra delay p50 %.0f ms p95 %.0f ms  control overhead %.4f  CDN requests %d (CDN-only %d)  wall %.1fs\n",
		r.ExtraDelayP50Ms, r.ExtraDelayP95Ms, r.ControlOverhead, r.CDNRequests, r.CDNOnly.CDNRequests, r.WallSeconds)
	for _, g := range r.Goals {
		verdict := "met"
		if !g.Met {
			verdict = "NOT met: " + g.Why
		}
		fmt.Fprintf(stdout, "goal %s %s: %.4g, %s\n", g.Name, g.Want, g.Got, verdict)
	}
	return nil
}
