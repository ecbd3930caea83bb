package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
)

// TrackerConfig is one arm of `p2phls bench tracker`.
type TrackerConfig struct {
	Exe        string // the p2phls binary (trackers and workers run as child processes)
	Name       string
	Clients    int
	Nodes      int
	Redis      bool
	Relays     int
	RelayRate  int
	PerProcess int // clients per load-generator process (open files: 20,000 a process)
	TmpDir     string
}

// TrackerReport is one arm's figures.
type TrackerReport struct {
	Name         string  `json:"name"`
	Store        string  `json:"store"`
	Nodes        int     `json:"nodes"`
	Clients      int     `json:"clients"`
	Generators   int     `json:"generator_processes"`
	JoinErrors   int     `json:"join_errors"`
	JoinsPerSec  float64 `json:"joins_per_s"`
	RelayP50Ms   float64 `json:"relay_p50_ms"`
	RelayP99Ms   float64 `json:"relay_p99_ms"`
	RelaysLost   int     `json:"relays_lost"`
	RSSPerPeer   float64 `json:"rss_bytes_per_idle_peer"`
	TrackerRSSMB float64 `json:"tracker_rss_mb"`
	CPUs         int     `json:"cpus"`
}

// RunTracker starts the tracker node(s) (and Redis), drives the load and
// reports.
func RunTracker(ctx context.Context, cfg TrackerConfig) (TrackerReport, error) {
	rep := TrackerReport{Name: cfg.Name, Store: "memory", Nodes: cfg.Nodes, Clients: cfg.Clients, CPUs: runtime.NumCPU()}
	args := []string{"tracker", "--listen", "127.0.0.1:0", "--log-level", "info", "--max-conns-per-ip", "0", "--max-msgs-per-ip", "0"} // the load comes from 16 addresses
	if cfg.Redis {
		rep.Store = "redis"
		rp, err := StartRedis(cfg.TmpDir)
		if err != nil {
			return rep, err
		}
		defer rp.Stop()
		args = append(args, "--redis", "redis://"+rp.Addr+"/0")
	}
	var nodes []*Proc
	defer func() {
		for _, n := range nodes {
			n.Stop()
		}
	}()
	for range cfg.Nodes {
		p, err := StartListener(cfg.Exe, args...)
		if err != nil {
			return rep, err
		}
		nodes = append(nodes, p)
	}
	addrs := make([]string, len(nodes))
	for i, n := range nodes {
		addrs[i] = n.Addr
	}
	rssBase := totalRSS(nodes)
	var rssLoaded int64
	res, gens, err := runGenerators(ctx, cfg, addrs, func() { time.Sleep(time.Second); rssLoaded = totalRSS(nodes) })
	if err != nil {
		return rep, err
	}
	rep.Generators = gens
	var lats []float64
	var joinSecs float64
	for _, r := range res {
		rep.JoinErrors += r.JoinErrors
		rep.RelaysLost += r.Lost
		lats = append(lats, r.Latencies...)
		joinSecs = max(joinSecs, r.JoinSecs)
	}
	sort.Float64s(lats)
	joined := cfg.Clients - rep.JoinErrors
	rep.JoinsPerSec = float64(joined) / joinSecs
	rep.RelayP50Ms, rep.RelayP99Ms = Percentile(lats, 0.5), Percentile(lats, 0.99)
	if joined > 0 {
		rep.RSSPerPeer = float64(rssLoaded-rssBase) / float64(joined)
	}
	rep.TrackerRSSMB = float64(rssLoaded) / (1 << 20)
	return rep, nil
}

func totalRSS(ps []*Proc) int64 {
	var sum int64
	for _, p := range ps {
		r, _ := RSS(p.Cmd.Process.Pid)
		sum += r
	}
	return sum
}

func sourceIPs(gen int) []string {
	out := make([]string, 8)
	for i := range out {
		out[i] = fmt.Sprintf("127.0.%d.%d", gen+1, i+1)
	}
	return out
}

// runGenerators runs the load in this process when it fits, else in worker
// processes; onJoined runs once every client of every generator has joined.
func runGenerators(ctx context.Context, cfg TrackerConfig, addrs []string, onJoined func()) ([]LoadResult, int, error) {
	base := LoadConfig{Trackers: addrs, SwarmSize: 20, Concurrent: 64, RelayRate: cfg.RelayRate}
	if cfg.Clients <= cfg.PerProcess {
		lc := base
		lc.Clients, lc.Relays, lc.SourceIPs, lc.OnJoined = cfg.Clients, cfg.Relays, sourceIPs(0), onJoined
		r, err := RunLoad(ctx, lc)
		return []LoadResult{r}, 1, err
	}
	gens := (cfg.Clients + cfg.PerProcess - 1) / cfg.PerProcess
	workers := make([]*worker, gens)
	for g := range gens {
		n := min(cfg.PerProcess, cfg.Clients-g*cfg.PerProcess)
		w, err := startWorker(cfg.Exe, addrs, n, g*cfg.PerProcess, cfg.Relays/gens, cfg.RelayRate/gens, sourceIPs(g))
		if err != nil {
			return nil, gens, err
		}
		defer w.cmd.Process.Kill()
		workers[g] = w
	}
	for _, w := range workers { // all joined?
		if err := w.expect("joined"); err != nil {
			return nil, gens, err
		}
	}
	onJoined()
	res := make([]LoadResult, gens)
	var g errgroup.Group
	for i, w := range workers {
		g.Go(func() error { return w.finish(&res[i]) })
	}
	return res, gens, g.Wait()
}

type worker struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

func startWorker(exe string, addrs []string, n, offset, relays, rate int, ips []string) (*worker, error) {
	cmd := exec.Command(exe, "bench", "tracker-worker", "--trackers", strings.Join(addrs, ","), "--clients", strconv.Itoa(n),
		"--offset", strconv.Itoa(offset), "--relays", strconv.Itoa(relays), "--rate", strconv.Itoa(max(1, rate)), "--src", strings.Join(ips, ","))
	cmd.Stderr = os.Stderr
	in, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return &worker{cmd: cmd, in: in, out: bufio.NewReader(out)}, nil
}

func (w *worker) expect(line string) error {
	s, err := w.out.ReadString('\n')
	if err != nil || strings.TrimSpace(s) != line {
		return fmt.Errorf("bench worker: got %q, %v; want %q", s, err, line)
	}
	return nil
}

func (w *worker) finish(r *LoadResult) error {
	if _, err := io.WriteString(w.in, "go\n"); err != nil {
		return err
	}
	if err := json.NewDecoder(w.out).Decode(r); err != nil {
		return fmt.Errorf("bench worker result: %w", err)
	}
	return w.cmd.Wait()
}

// Worker is the body of `p2phls bench tracker-worker`: join, say "joined",
// wait for "go" on stdin, relay, print the result as JSON.
func Worker(ctx context.Context, cfg LoadConfig, stdin io.Reader, stdout io.Writer) error {
	cfg.OnJoined = func() {
		fmt.Fprintln(stdout, "joined")
		_, _ = bufio.NewReader(stdin).ReadString('\n')
	}
	r, err := RunLoad(ctx, cfg)
	if err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(r)
}
