package bench

import (
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"time"
)

// WTConfig is `p2phls bench tracker --protocol webtorrent`: the same load
// against each server, one after the other, each pinned to one core.
type WTConfig struct {
	Servers    []WTServer
	Clients    int           // idle announced clients (memory; they also re-announce)
	SwarmSize  int           // clients per info_hash
	Settle     time.Duration // idle time before memory is read
	StepFor    time.Duration // length of each fixed-rate step
	StartRate  int           // first plain re-announce rate; ×1.5 a step until p99 >= 100 ms
	MaxRate    int
	OfferRates []int // announces/s with 5 offers each: server CPU per announce
	ServerCPU  int   // core the server is pinned to (taskset); -1: not pinned
	Log        func(format string, args ...any)
}

// WTServer starts one server and returns it with its ws:// URL.
type WTServer struct {
	Name  string
	Start func(pin []string) (*Proc, string, error)
}

// WTReport is one server's figures.
type WTReport struct {
	Name         string   `json:"name"`
	Clients      int      `json:"clients"`
	RSSBaseMB    float64  `json:"rss_base_mb"`
	RSSPerPeer   float64  `json:"rss_bytes_per_idle_peer"`
	MaxPlainRate int      `json:"max_plain_announces_per_s_p99_under_100ms"`
	Plain        []WTStep `json:"plain_steps"`
	Offered      []WTStep `json:"offer_steps"`
}

// RunWT runs every server of cfg.
func RunWT(ctx context.Context, cfg WTConfig) ([]WTReport, error) {
	var out []WTReport
	for _, s := range cfg.Servers {
		r, err := runWTServer(ctx, cfg, s)
		if err != nil {
			return out, fmt.Errorf("%s: %w", s.Name, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// Pin is the taskset prefix that runs a command on one core, or nothing when
// taskset is missing or cpu < 0.
func Pin(cpu int) []string {
	if cpu < 0 {
		return nil
	}
	if _, err := exec.LookPath("taskset"); err != nil {
		return nil
	}
	return []string{"taskset", "-c", strconv.Itoa(cpu)}
}

func runWTServer(ctx context.Context, cfg WTConfig, s WTServer) (WTReport, error) {
	rep := WTReport{Name: s.Name, Clients: cfg.Clients}
	p, url, err := s.Start(Pin(cfg.ServerCPU))
	if err != nil {
		return rep, err
	}
	defer p.Stop()
	pid := p.Cmd.Process.Pid
	time.Sleep(500 * time.Millisecond)
	base, _ := RSS(pid)
	rep.RSSBaseMB = float64(base) / (1 << 20)
	cl, err := DialWT(ctx, url, cfg.Clients, cfg.SwarmSize, sourceIPs(0))
	if err != nil {
		return rep, err
	}
	defer cl.Close()
	time.Sleep(cfg.Settle)
	loaded, _ := RSS(pid)
	rep.RSSPerPeer = float64(loaded-base) / float64(cfg.Clients)
	cfg.Log("%s: %d clients announced, %.0f B RSS per idle peer after %v idle", s.Name, cfg.Clients, rep.RSSPerPeer, cfg.Settle)
	for rate := cfg.StartRate; rate <= cfg.MaxRate && ctx.Err() == nil; rate = rate * 3 / 2 {
		st := measuredStep(ctx, cl, pid, rate, 0, cfg.StepFor)
		rep.Plain = append(rep.Plain, st)
		cfg.Log("%s: plain %d/s: sent %.0f/s, answered %.3f, p50 %.1f ms, p99 %.1f ms, %.0f µs CPU per announce",
			s.Name, rate, st.Achieved, st.Answered, st.P50Ms, st.P99Ms, st.CPUUS)
		if !st.held() {
			break
		}
		rep.MaxPlainRate = rate
		time.Sleep(500 * time.Millisecond)
	}
	time.Sleep(time.Second)
	for _, rate := range cfg.OfferRates {
		st := measuredStep(ctx, cl, pid, rate, 5, cfg.StepFor)
		rep.Offered = append(rep.Offered, st)
		cfg.Log("%s: %d/s with 5 offers: sent %.0f/s, answered %.3f, p99 %.1f ms, %d offers delivered, %.0f µs CPU per announce (%.0f in the kernel)",
			s.Name, rate, st.Achieved, st.Answered, st.P99Ms, st.OffersIn, st.CPUUS, st.SysUS)
		time.Sleep(time.Second)
	}
	return rep, nil
}

// measuredStep runs one step and adds the server's CPU time per announce
// (user + system, the whole step and its drain).
func measuredStep(ctx context.Context, cl *WTClients, pid, rate, offers int, d time.Duration) WTStep {
	u0, s0, _ := CPUSplit(pid)
	st := cl.Step(ctx, rate, offers, d)
	u1, s1, _ := CPUSplit(pid)
	n := float64(max(1, st.Sent))
	st.CPUUS = (u1 - u0 + s1 - s0) * 1e6 / n
	st.SysUS = (s1 - s0) * 1e6 / n
	return st
}

// held: the step ran at its rate, every announce was answered, p99 < 100 ms.
func (st WTStep) held() bool {
	return st.Achieved >= 0.95*float64(st.Rate) && st.Answered >= 0.999 && st.Failures == 0 && st.P99Ms < 100
}
