package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/p2phls/p2phls/peer"
)

// Stats is GET /stats: the sum over running renditions, and each one.
type Stats struct {
	BytesCDN      int64        `json:"bytes_cdn"`
	BytesP2P      int64        `json:"bytes_p2p"`
	BytesUploaded int64        `json:"bytes_uploaded"`
	Stalls        int64        `json:"stalls"`
	Peers         int          `json:"peers"`
	Offload       float64      `json:"offload"`
	Renditions    []peer.Stats `json:"renditions"`
}

// Stats sums the running renditions' counters.
func (s *Server) Stats() Stats {
	var st Stats
	for _, n := range s.Nodes() {
		if n == nil {
			continue
		}
		r := n.Stats()
		st.Renditions = append(st.Renditions, r)
		st.BytesCDN += r.BytesCDN
		st.BytesP2P += r.BytesP2P
		st.BytesUploaded += r.BytesUploaded
		st.Stalls += r.Stalls
		st.Peers += r.Peers
	}
	if t := st.BytesCDN + st.BytesP2P; t > 0 {
		st.Offload = float64(st.BytesP2P) / float64(t)
	}
	return st
}

// Handler serves the player, /stats, /metrics and /healthz.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /live.m3u8", s.serveRoot)
	mux.HandleFunc("GET /r/{i}/live.m3u8", func(w http.ResponseWriter, r *http.Request) {
		s.serveMedia(w, r, r.PathValue("i"))
	})
	mux.HandleFunc("GET /seg/{n}", func(w http.ResponseWriter, r *http.Request) { s.serveSegment(w, r, "0", false) })
	mux.HandleFunc("GET /init/{n}", func(w http.ResponseWriter, r *http.Request) { s.serveSegment(w, r, "0", true) })
	mux.HandleFunc("GET /r/{i}/seg/{n}", func(w http.ResponseWriter, r *http.Request) {
		s.serveSegment(w, r, r.PathValue("i"), false)
	})
	mux.HandleFunc("GET /r/{i}/init/{n}", func(w http.ResponseWriter, r *http.Request) {
		s.serveSegment(w, r, r.PathValue("i"), true)
	})
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(s.Stats())
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.registry(), promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	return cors(mux)
}

func cors(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		h.ServeHTTP(w, r)
	})
}

func (s *Server) serveRoot(w http.ResponseWriter, r *http.Request) {
	if s.master == nil {
		s.serveMedia(w, r, "0")
		return
	}
	writePlaylist(w, s.master)
}

func (s *Server) serveMedia(w http.ResponseWriter, r *http.Request, idx string) {
	n, ok := s.lookup(w, idx)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 15*time.Second)
	defer cancel()
	b, err := n.Playlist(ctx)
	if err != nil {
		http.Error(w, "no segment ready yet: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	writePlaylist(w, b)
}

func writePlaylist(w http.ResponseWriter, b []byte) {
	w.Header().Set("Content-Type", "application/vnd.apple.mpegurl")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(b)
}

func (s *Server) lookup(w http.ResponseWriter, idx string) (*peer.Node, bool) {
	i, err := strconv.Atoi(idx)
	if err != nil {
		http.NotFound(w, nil)
		return nil, false
	}
	n, err := s.node(i)
	if err != nil {
		status := http.StatusServiceUnavailable
		if errors.Is(err, ErrNoRendition) {
			status = http.StatusNotFound
		}
		http.Error(w, err.Error(), status)
		return nil, false
	}
	return n, true
}

func (s *Server) serveSegment(w http.ResponseWriter, r *http.Request, idx string, init bool) {
	num, _, _ := strings.Cut(r.PathValue("n"), ".")
	k, err := strconv.ParseInt(num, 10, 64)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	n, ok := s.lookup(w, idx)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 20*time.Second)
	defer cancel()
	var b []byte
	if init {
		b, err = n.Init(ctx, int(k))
	} else {
		b, err = n.Segment(ctx, k)
	}
	switch {
	case errors.Is(err, peer.ErrUnknownSegment):
		http.NotFound(w, r)
		return
	case err != nil:
		s.cfg.Logger.Warn("segment not served", "rendition", idx, "n", k, "err", err)
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	w.Header().Set("Content-Type", "video/mp2t")
	if strings.HasSuffix(r.URL.Path, ".mp4") || strings.HasSuffix(r.URL.Path, ".m4s") {
		w.Header().Set("Content-Type", "video/mp4")
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b)
}

func (s *Server) registry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}), collector{s})
	return reg
}

// collector reports the peer's counters, reading Stats once per scrape.
type collector struct{ s *Server }

var (
	descCDN      = prometheus.NewDesc("p2phls_peer_cdn_bytes_total", "Bytes fetched from the CDN.", nil, nil)
	descP2P      = prometheus.NewDesc("p2phls_peer_p2p_bytes_total", "Bytes received from peers.", nil, nil)
	descUploaded = prometheus.NewDesc("p2phls_peer_uploaded_bytes_total", "Bytes sent to peers.", nil, nil)
	descStalls   = prometheus.NewDesc("p2phls_peer_stalls_total", "Segments ready after their deadline or given up.", nil, nil)
	descLinks    = prometheus.NewDesc("p2phls_peer_links", "Open peer links.", nil, nil)
)

func (c collector) Describe(ch chan<- *prometheus.Desc) { prometheus.DescribeByCollect(c, ch) }

func (c collector) Collect(ch chan<- prometheus.Metric) {
	st := c.s.Stats()
	ch <- prometheus.MustNewConstMetric(descCDN, prometheus.CounterValue, float64(st.BytesCDN))
	ch <- prometheus.MustNewConstMetric(descP2P, prometheus.CounterValue, float64(st.BytesP2P))
	ch <- prometheus.MustNewConstMetric(descUploaded, prometheus.CounterValue, float64(st.BytesUploaded))
	ch <- prometheus.MustNewConstMetric(descStalls, prometheus.CounterValue, float64(st.Stalls))
	ch <- prometheus.MustNewConstMetric(descLinks, prometheus.GaugeValue, float64(st.Peers))
}
