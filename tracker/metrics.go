package tracker

import (
	"context"
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/p2phls/p2phls/tracker/peerstore"
)

// Metrics of a tracker node, all prefixed p2phls_.
type Metrics struct {
	connections prometheus.Gauge
	peers       prometheus.Gauge
	messages    *prometheus.CounterVec
	relayed     *prometheus.CounterVec
	errors      *prometheus.CounterVec
	joinSeconds prometheus.Histogram
	reports     prometheus.Counter
	bans        prometheus.Counter
	pings       prometheus.Counter
}

// NewMetrics creates the metrics and registers them with reg (none when nil).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		connections: prometheus.NewGauge(prometheus.GaugeOpts{Name: "p2phls_tracker_connections", Help: "Open signaling connections on this node."}),
		peers:       prometheus.NewGauge(prometheus.GaugeOpts{Name: "p2phls_tracker_peers_connected", Help: "Peers joined to a swarm on this node."}),
		messages:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: "p2phls_tracker_messages_total", Help: "Valid signaling messages received, by type."}, []string{"type"}),
		relayed:     prometheus.NewCounterVec(prometheus.CounterOpts{Name: "p2phls_tracker_relayed_total", Help: "Messages relayed to another peer, by type."}, []string{"type"}),
		errors:      prometheus.NewCounterVec(prometheus.CounterOpts{Name: "p2phls_tracker_errors_total", Help: "Errors sent to clients, by code."}, []string{"code"}),
		joinSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "p2phls_tracker_join_seconds", Help: "Time to handle a join.", Buckets: prometheus.ExponentialBuckets(0.0001, 3, 10)}),
		reports:     prometheus.NewCounter(prometheus.CounterOpts{Name: "p2phls_tracker_bad_data_reports_total", Help: "Reports of a peer sending bad data."}),
		bans:        prometheus.NewCounter(prometheus.CounterOpts{Name: "p2phls_tracker_bans_total", Help: "Peers banned after reports by several peers."}),
		pings:       prometheus.NewCounter(prometheus.CounterOpts{Name: "p2phls_tracker_pings_total", Help: "Keepalive pings sent to quiet connections."}),
	}
	if reg != nil {
		reg.MustRegister(m.connections, m.peers, m.messages, m.relayed, m.errors, m.joinSeconds, m.reports, m.bans, m.pings)
	}
	return m
}

// swarmCollector exports per-swarm figures from the store at scrape time, for
// the largest swarms only so that label cardinality stays bounded.
type swarmCollector struct {
	store peerstore.Store
	max   int
	descs map[string]*prometheus.Desc
}

// NewSwarmCollector returns a collector of the maxSwarms largest swarms.
func NewSwarmCollector(store peerstore.Store, maxSwarms int) prometheus.Collector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("p2phls_"+name, help, labels, nil)
	}
	return &swarmCollector{store: store, max: maxSwarms, descs: map[string]*prometheus.Desc{
		"swarms":         d("swarms", "Swarms with at least one live peer (all nodes)."),
		"peers":          d("swarm_peers", "Live peers in the swarm (all nodes).", "swarm"),
		"bytes_cdn":      d("swarm_bytes_cdn_total", "Media bytes the swarm's peers took from the CDN.", "swarm"),
		"bytes_p2p":      d("swarm_bytes_p2p_total", "Media bytes the swarm's peers took from peers.", "swarm"),
		"bytes_uploaded": d("swarm_bytes_uploaded_total", "Media bytes the swarm's peers uploaded.", "swarm"),
		"stalls":         d("swarm_stalls_total", "Player stalls reported by the swarm's peers.", "swarm"),
		"offload":        d("swarm_offload_ratio", "bytes_p2p / (bytes_p2p + bytes_cdn).", "swarm"),
	}}
}

func (c *swarmCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

func (c *swarmCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	sw, err := c.store.Swarms(ctx)
	if err != nil {
		return
	}
	ch <- prometheus.MustNewConstMetric(c.descs["swarms"], prometheus.GaugeValue, float64(len(sw)))
	sort.Slice(sw, func(i, j int) bool { return sw[i].Peers > sw[j].Peers })
	if len(sw) > c.max {
		sw = sw[:c.max]
	}
	for _, s := range sw {
		g := func(k string, t prometheus.ValueType, v float64) {
			ch <- prometheus.MustNewConstMetric(c.descs[k], t, v, s.ID)
		}
		g("peers", prometheus.GaugeValue, float64(s.Peers))
		g("bytes_cdn", prometheus.CounterValue, float64(s.Totals.BytesCDN))
		g("bytes_p2p", prometheus.CounterValue, float64(s.Totals.BytesP2P))
		g("bytes_uploaded", prometheus.CounterValue, float64(s.Totals.BytesUploaded))
		g("stalls", prometheus.CounterValue, float64(s.Totals.Stalls))
		g("offload", prometheus.GaugeValue, Offload(s.Totals))
	}
}

// Offload is bytes from peers ÷ all media bytes received (0 when none).
func Offload(s peerstore.Stats) float64 {
	if all := s.BytesP2P + s.BytesCDN; all > 0 {
		return float64(s.BytesP2P) / float64(all)
	}
	return 0
}
