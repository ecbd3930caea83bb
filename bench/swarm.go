package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/p2phls/p2phls/internal/tick"
	"github.com/p2phls/p2phls/player"
)

// SwarmConfig configures one arm of a live swarm on loopback: an origin, a
// tracker and Peers `p2phls peer` processes, each read by a model player.
type SwarmConfig struct {
	Bin      string        // the p2phls binary
	Peers    int           // default 10
	Duration time.Duration // of playback, default 60s
	CDNOnly  bool          // the comparison arm: every peer --cdn-only, no tracker
	Kill     int           // peers SIGKILLed at half time
	Stop     int           // peers stopped with SIGTERM at three quarters
	Stagger  time.Duration // between peer starts, default 200ms
	// Integrity runs the tracker's integrity service on the origin: peers check every piece.
	Integrity bool
	// Poisoners: the first N peers corrupt every piece they send (peer --test-corrupt).
	Poisoners int
	// SharePlaylists: peers pass playlists down the trees (peer --share-playlists).
	SharePlaylists bool
	// Playlist and Sources: an origin run by the caller (default: one started here).
	Playlist string
	Sources  []string
	// Tracker: a tracker run by the caller, ws://host/v1/ws (default: one started here).
	Tracker string
	// During runs once the players have started, with each peer's /live.m3u8 URL.
	During func(ctx context.Context, urls []string)
	// Segment is the started origin's segment duration (default its own, 2 s).
	Segment time.Duration
	// PeerArgs are more flags for every peer (--utilization 0.875).
	PeerArgs []string
}

// PeerResult is one peer: what its player saw and what its /stats said.
type PeerResult struct {
	Player    player.Result   `json:"-"`
	Stalls    int             `json:"stalls"`
	Segments  int             `json:"segments"`
	Killed    bool            `json:"killed,omitempty"`
	Stats     json.RawMessage `json:"stats,omitempty"`
	CPUSec    float64         `json:"cpu_s"`
	RSS       int64           `json:"rss_bytes"`
	statsData peerStats
}

type peerStats struct {
	BytesCDN      int64 `json:"bytes_cdn"`
	BytesP2P      int64 `json:"bytes_p2p"`
	BytesUploaded int64 `json:"bytes_uploaded"`
	Renditions    []struct {
		Engine struct {
			Control int64 `json:"control_bytes_sent"`
		} `json:"engine"`
		DelayP50 float64 `json:"extra_delay_p50_ms"`
		DelayP95 float64 `json:"extra_delay_p95_ms"`
		AgeP50   float64 `json:"age_p50_ms"`
		AgeP95   float64 `json:"age_p95_ms"`
		Links    struct {
			WireSent int64   `json:"wire_bytes_sent"`
			Opened   int64   `json:"links_opened"`
			Failed   int64   `json:"link_failures"`
			SetupMS  float64 `json:"link_setup_ms"`
		} `json:"links"`
	} `json:"renditions"`
}

// SwarmResult sums an arm.
type SwarmResult struct {
	Peers      int     `json:"peers"`
	CDNOnly    bool    `json:"cdn_only"`
	Offload    float64 `json:"offload"`
	Stalls     int     `json:"stalls"` // at the players of peers that were not killed
	BytesCDN   int64   `json:"bytes_cdn"`
	BytesP2P   int64   `json:"bytes_p2p"`
	DelayP50MS float64 `json:"extra_delay_p50_ms"` // median over peers of their p50
	DelayP95MS float64 `json:"extra_delay_p95_ms"` // worst peer's p95
	// Age: publication (EXT-X-PROGRAM-DATE-TIME + duration) → ready at the
	// peer, the median over peers of their p50 and of their p95; the P2P
	// arm's minus the CDN-only arm's is the delay P2P adds, as in the
	// simulator.
	AgeP50MS        float64      `json:"age_p50_ms"`
	AgeP95MS        float64      `json:"age_p95_ms"`
	CPUPerPeer      float64      `json:"cpu_per_peer"` // cores
	RSSPerPeer      int64        `json:"rss_per_peer_bytes"`
	ControlOverhead float64      `json:"control_overhead"` // wire bytes sent that are not media ÷ media bytes uploaded
	MessageOverhead float64      `json:"message_overhead"` // peer-protocol bytes that are not media (control messages, piece headers) ÷ media bytes uploaded
	LinksOpened     int64        `json:"links_opened"`
	LinkFailures    int64        `json:"link_failures"`
	LinkSetupMS     float64      `json:"link_setup_ms"` // mean, offer to open DataChannel
	PerPeer         []PeerResult `json:"per_peer"`
	// Timeline: every second, each peer's bytes so far.
	Timeline []Sample `json:"timeline,omitempty"`
	KillAt   float64  `json:"kill_at_s,omitempty"` // when Kill peers were killed, seconds from the players' start
}

// Sample is each peer's cumulative bytes at T seconds from the players'
// start; -1 for a peer that did not answer (killed).
type Sample struct {
	T        float64 `json:"t"`
	BytesP2P []int64 `json:"bytes_p2p"`
	BytesCDN []int64 `json:"bytes_cdn"`
}

// OffloadBetween is the swarm's offload over the bytes that came between
// times a and b (seconds): the peers that answered at both ends; -1 when
// no byte came.
func (r *SwarmResult) OffloadBetween(a, b float64) float64 {
	var first, last *Sample
	for i := range r.Timeline {
		s := &r.Timeline[i]
		if first == nil && s.T >= a {
			first = s
		}
		if s.T <= b {
			last = s
		}
	}
	if first == nil || last == nil || last.T <= first.T {
		return -1
	}
	var p2p, cdn int64
	for i := range first.BytesP2P {
		if first.BytesP2P[i] >= 0 && last.BytesP2P[i] >= 0 {
			p2p += last.BytesP2P[i] - first.BytesP2P[i]
			cdn += last.BytesCDN[i] - first.BytesCDN[i]
		}
	}
	if p2p+cdn == 0 {
		return -1
	}
	return float64(p2p) / float64(p2p+cdn)
}

// Recovery compares the swarm's offload over the 16 s before the kill
// (stopping a second short: a sample at the kill may miss the dead) with
// its offload from 2 segments (4 s) after it, over the next 12 s.
func (r *SwarmResult) Recovery() (before, after float64) {
	return r.OffloadBetween(r.KillAt-17, r.KillAt-1), r.OffloadBetween(r.KillAt+4, r.KillAt+16)
}

// RunSwarm runs one arm and returns its figures; Origin and tracker are
// children of this process and stopped at the end.
func RunSwarm(ctx context.Context, cfg SwarmConfig) (SwarmResult, error) {
	if cfg.Peers <= 0 {
		cfg.Peers = 10
	}
	if cfg.Duration <= 0 {
		cfg.Duration = time.Minute
	}
	if cfg.Stagger <= 0 {
		cfg.Stagger = 200 * time.Millisecond
	}
	if cfg.Playlist == "" {
		oargs := []string{"origin", "--listen", "127.0.0.1:0"}
		if cfg.Segment > 0 {
			oargs = append(oargs, "--segment", cfg.Segment.String())
		}
		org, err := StartListener(cfg.Bin, oargs...)
		if err != nil {
			return SwarmResult{}, err
		}
		defer org.Stop()
		cfg.Playlist = "http://" + org.Addr + "/live/index.m3u8"
	}
	args := []string{"peer", "--listen", "127.0.0.1:0", "--loopback", "--playlist", cfg.Playlist}
	if len(cfg.Sources) > 0 {
		args = append(args, "--sources", strings.Join(cfg.Sources, ","))
	}
	if cfg.SharePlaylists {
		args = append(args, "--share-playlists")
	}
	args = append(args, cfg.PeerArgs...)
	switch {
	case cfg.CDNOnly:
		args = append(args, "--cdn-only")
	case cfg.Tracker != "":
		args = append(args, "--tracker", cfg.Tracker)
	default:
		targs := []string{"tracker", "--listen", "127.0.0.1:0", "--heartbeat", "2s"}
		if cfg.Integrity {
			u, _ := url.Parse(cfg.Playlist)
			targs = append(targs, "--integrity", u.Scheme+"://"+u.Host)
		}
		tr, err := StartListener(cfg.Bin, targs...)
		if err != nil {
			return SwarmResult{}, err
		}
		defer tr.Stop()
		args = append(args, "--tracker", "ws://"+tr.Addr+"/v1/ws")
	}
	procs := make([]*Proc, cfg.Peers)
	defer func() {
		for _, p := range procs {
			p.Stop()
		}
	}()
	for i := range procs {
		a := args
		if i < cfg.Poisoners {
			a = append(slices.Clone(args), "--test-corrupt")
		}
		var err error
		if procs[i], err = StartListener(cfg.Bin, a...); err != nil {
			return SwarmResult{}, err
		}
		time.Sleep(cfg.Stagger)
	}
	return playSwarm(ctx, cfg, procs)
}

func playSwarm(ctx context.Context, cfg SwarmConfig, procs []*Proc) (SwarmResult, error) {
	res := SwarmResult{Peers: cfg.Peers, CDNOnly: cfg.CDNOnly, PerPeer: make([]PeerResult, len(procs))}
	urls := make([]string, len(procs))
	for i, p := range procs {
		urls[i] = "http://" + p.Addr + "/live.m3u8"
	}
	pctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	var wg sync.WaitGroup
	for i := range procs {
		wg.Go(func() { res.PerPeer[i].Player, _ = player.Play(pctx, player.Config{URL: urls[i]}) })
	}
	if cfg.During != nil {
		wg.Go(func() { cfg.During(pctx, urls) })
	}
	wg.Go(func() { res.KillAt = churn(pctx, cfg, procs, res.PerPeer) })
	timeline := sampleStats(pctx, procs)
	wg.Wait()
	res.Timeline = timeline()
	for i, p := range procs {
		r := &res.PerPeer[i]
		r.Stalls, r.Segments = r.Player.Stalls, len(r.Player.Segments)
		if r.Killed {
			continue
		}
		r.Stats, r.statsData = fetchStats(p.Addr)
		r.CPUSec, _ = CPUSeconds(p.Cmd.Process.Pid)
		r.RSS, _ = RSS(p.Cmd.Process.Pid)
	}
	res.sum(cfg.Duration)
	return res, nil
}

// churn kills cfg.Kill peers (SIGKILL, no goodbye) at half time and stops
// cfg.Stop more (SIGTERM) at three quarters; their players stop with them.
func churn(ctx context.Context, cfg SwarmConfig, procs []*Proc, out []PeerResult) (killAt float64) {
	start := time.Now()
	step := func(at time.Duration, n, from int, sig syscall.Signal) {
		select {
		case <-time.After(at):
		case <-ctx.Done():
			return
		}
		for i := from; i < from+n && i < len(procs); i++ {
			out[i].Killed = true
			_ = procs[i].Cmd.Process.Signal(sig)
		}
	}
	step(cfg.Duration/2, cfg.Kill, 0, syscall.SIGKILL)
	killAt = time.Since(start).Seconds()
	step(cfg.Duration/4, cfg.Stop, cfg.Kill, syscall.SIGTERM)
	return killAt
}

// sampleStats reads every peer's /stats each second until ctx ends; the
// returned func waits for the end and gives the timeline.
func sampleStats(ctx context.Context, procs []*Proc) func() []Sample {
	var tl []Sample
	done := make(chan struct{})
	go func() {
		defer close(done)
		start := time.Now()
		tick.Every(ctx, time.Second, func() {
			s := Sample{T: time.Since(start).Seconds(), BytesP2P: make([]int64, len(procs)), BytesCDN: make([]int64, len(procs))}
			for i, p := range procs {
				raw, ps := fetchStats(p.Addr)
				if raw == nil {
					s.BytesP2P[i], s.BytesCDN[i] = -1, -1
					continue
				}
				s.BytesP2P[i], s.BytesCDN[i] = ps.BytesP2P, ps.BytesCDN
			}
			tl = append(tl, s)
		})
	}()
	return func() []Sample {
		<-done
		return tl
	}
}

func fetchStats(addr string) (json.RawMessage, peerStats) {
	var ps peerStats
	resp, err := http.Get("http://" + addr + "/stats")
	if err != nil {
		return nil, ps
	}
	defer resp.Body.Close()
	var raw json.RawMessage
	if json.NewDecoder(resp.Body).Decode(&raw) == nil {
		_ = json.Unmarshal(raw, &ps)
	}
	return raw, ps
}

func (r *SwarmResult) sum(d time.Duration) {
	var n, wire, up, ctl int64
	var cpu, setup float64
	var p50s, p95s, a50s, a95s []float64
	for _, p := range r.PerPeer {
		if p.Killed {
			continue
		}
		n++
		r.Stalls += p.Stalls
		s := p.statsData
		r.BytesCDN += s.BytesCDN
		r.BytesP2P += s.BytesP2P
		up += s.BytesUploaded
		for _, rd := range s.Renditions {
			wire += rd.Links.WireSent
			ctl += rd.Engine.Control
			r.LinksOpened += rd.Links.Opened
			r.LinkFailures += rd.Links.Failed
			setup += rd.Links.SetupMS * float64(rd.Links.Opened)
			p50s, p95s = append(p50s, rd.DelayP50), append(p95s, rd.DelayP95)
			a50s, a95s = append(a50s, rd.AgeP50), append(a95s, rd.AgeP95)
		}
		cpu += p.CPUSec
		r.RSSPerPeer += p.RSS
	}
	if n == 0 {
		return
	}
	r.RSSPerPeer /= n
	r.CPUPerPeer = cpu / float64(n) / d.Seconds()
	if t := r.BytesCDN + r.BytesP2P; t > 0 {
		r.Offload = float64(r.BytesP2P) / float64(t)
	}
	if up > 0 {
		r.ControlOverhead = float64(wire-up) / float64(up)
		r.MessageOverhead = float64(ctl) / float64(up)
	}
	if r.LinksOpened > 0 {
		r.LinkSetupMS = setup / float64(r.LinksOpened)
	}
	if len(p50s) > 0 {
		slices.Sort(p50s)
		r.DelayP50MS = p50s[len(p50s)/2]
		r.DelayP95MS = slices.Max(p95s)
		r.AgeP50MS, r.AgeP95MS = median(a50s), median(a95s)
	}
}

// median of v (sorts v).
func median(v []float64) float64 {
	slices.Sort(v)
	return v[len(v)/2]
}

// CPUSeconds is the user+system CPU time pid has used.
func CPUSeconds(pid int) (float64, error) {
	user, sys, err := CPUSplit(pid)
	return user + sys, err
}

// CPUSplit returns the user and system (kernel) CPU seconds pid has used.
func CPUSplit(pid int) (user, sys float64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:]) // fields from 3 on
	if len(f) < 13 {
		return 0, 0, fmt.Errorf("bench: short /proc/%d/stat", pid)
	}
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return ut / 100, st / 100, nil // USER_HZ
}
