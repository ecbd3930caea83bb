// Package bench holds the load generators and measurements behind
// `p2phls bench`.
package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/sync/errgroup"
)

// LoadConfig is one load generator's share of a tracker benchmark.
type LoadConfig struct {
	Trackers   []string // host:port of the tracker nodes; clients spread round robin
	Clients    int
	SwarmSize  int      // clients per swarm
	SourceIPs  []string // local addresses to dial from (127.0.0.x), round robin
	Relays     int      // signals sent after all joined
	RelayRate  int      // signals per second
	Concurrent int      // joins in flight
	Offset     int      // first client index (several generators)
	HoldFor    time.Duration
	OnJoined   func() // called once all clients joined, before relays (measure memory)
}

// LoadResult is what a generator measured.
type LoadResult struct {
	Clients    int       `json:"clients"`
	JoinErrors int       `json:"join_errors"`
	JoinSecs   float64   `json:"join_seconds"`
	Latencies  []float64 `json:"relay_latencies_ms,omitempty"`
	Lost       int       `json:"relays_lost"`
}

type loadClient struct {
	c    *websocket.Conn
	id   string
	lat  chan float64
	once sync.Once
}

func dialer(src string) *http.Client {
	d := &net.Dialer{Timeout: 10 * time.Second}
	if src != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(src)}
	}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
}

// RunLoad connects cfg.Clients clients, joins them, then relays signals
// between members of the same swarm and measures the latency.
func RunLoad(ctx context.Context, cfg LoadConfig) (LoadResult, error) {
	clients := make([]*loadClient, cfg.Clients)
	hcs := map[string]*http.Client{}
	for _, ip := range append([]string{""}, cfg.SourceIPs...) {
		hcs[ip] = dialer(ip)
	}
	var joinErr atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(1, cfg.Concurrent))
	start := time.Now()
	for i := range clients {
		g.Go(func() error {
			src := ""
			if len(cfg.SourceIPs) > 0 {
				src = cfg.SourceIPs[i%len(cfg.SourceIPs)]
			}
			gi := cfg.Offset + i
			lc, err := joinOne(gctx, hcs[src], cfg.Trackers[gi%len(cfg.Trackers)], fmt.Sprintf("bench-%d", gi/cfg.SwarmSize))
			if err != nil {
				joinErr.Add(1)
				return nil
			}
			clients[i] = lc
			return nil
		})
	}
	_ = g.Wait()
	res := LoadResult{Clients: cfg.Clients, JoinErrors: int(joinErr.Load()), JoinSecs: time.Since(start).Seconds()}
	defer func() {
		for _, c := range clients {
			if c != nil {
				c.c.CloseNow()
			}
		}
	}()
	if cfg.OnJoined != nil {
		cfg.OnJoined()
	}
	if cfg.HoldFor > 0 {
		select {
		case <-time.After(cfg.HoldFor):
		case <-ctx.Done():
		}
	}
	res.Latencies, res.Lost = relay(ctx, clients, cfg)
	return res, nil
}

func joinOne(ctx context.Context, hc *http.Client, addr, swarm string) (*loadClient, error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws://"+addr+"/v1/ws", &websocket.DialOptions{HTTPClient: hc})
	if err != nil {
		return nil, err
	}
	b, _ := json.Marshal(map[string]string{"type": "join", "swarm": swarm})
	if err := c.Write(ctx, websocket.MessageText, b); err != nil {
		c.CloseNow()
		return nil, err
	}
	_, msg, err := c.Read(ctx)
	var m struct{ Type, Peer string }
	if err != nil || json.Unmarshal(msg, &m) != nil || m.Type != "joined" {
		c.CloseNow()
		return nil, fmt.Errorf("join failed: %v %s", err, msg)
	}
	lc := &loadClient{c: c, id: m.Peer, lat: make(chan float64, 64)}
	go lc.readLoop()
	return lc, nil
}

// readLoop turns every signal received into a latency sample.
func (lc *loadClient) readLoop() {
	for {
		_, b, err := lc.c.Read(context.Background())
		if err != nil {
			return
		}
		var m struct {
			Type string
			Data struct{ Sent int64 }
		}
		if json.Unmarshal(b, &m) == nil && m.Type == "signal" {
			select {
			case lc.lat <- float64(time.Now().UnixNano()-m.Data.Sent) / 1e6:
			default:
			}
		}
	}
}

// partner is the next client in i's swarm (clients join in swarm order).
func partner(i, n int, cfg LoadConfig) int {
	base := i - (cfg.Offset+i)%cfg.SwarmSize
	size := min(cfg.SwarmSize, n-base)
	return base + (i-base+1)%size
}

func relay(ctx context.Context, clients []*loadClient, cfg LoadConfig) ([]float64, int) {
	if len(clients) < 2 || cfg.Relays == 0 {
		return nil, 0
	}
	tick := time.NewTicker(time.Second / time.Duration(max(1, cfg.RelayRate)))
	defer tick.Stop()
	sent := make([]*loadClient, 0, cfg.Relays)
	for k := range cfg.Relays {
		i := k % len(clients)
		from, to := clients[i], clients[partner(i, len(clients), cfg)]
		if from == nil || to == nil || from == to {
			continue
		}
		b, _ := json.Marshal(map[string]any{"type": "signal", "to": to.id, "data": map[string]int64{"sent": time.Now().UnixNano()}})
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		if from.c.Write(wctx, websocket.MessageText, b) == nil {
			sent = append(sent, to)
		}
		cancel()
		select {
		case <-tick.C:
		case <-ctx.Done():
			return nil, 0
		}
	}
	var lats []float64
	lost := 0
	for _, to := range sent {
		select {
		case l := <-to.lat:
			lats = append(lats, l)
		case <-time.After(2 * time.Second):
			lost++
		}
	}
	sort.Float64s(lats)
	return lats, lost
}

// Percentile of sorted samples, p in [0,1].
func Percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(p*float64(len(sorted))))]
}
