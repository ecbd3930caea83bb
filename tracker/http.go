package tracker

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/lesismal/nbio/nbhttp/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/p2phls/p2phls/tracker/peerstore"
)

// HandlerConfig configures the HTTP side of a node.
type HandlerConfig struct {
	// Origins are the allowed WebSocket Origin host patterns; empty allows any.
	Origins []string
	// Gatherer serves /metrics (nothing when nil).
	Gatherer prometheus.Gatherer
}

type handler struct {
	t      *Tracker
	cfg    HandlerConfig
	ctx    context.Context
	hub    *wsHub
	up     *websocket.Upgrader
	wtPing time.Duration // how often a quiet /announce connection is pinged
}

// Handler returns the node's HTTP API and WebSocket endpoint (DESIGN §3).
// ctx bounds the life of the WebSocket connections: when it ends, they are
// closed and the pollers stop.
func (t *Tracker) Handler(ctx context.Context, cfg HandlerConfig) (http.Handler, error) {
	hub, err := newWSHub(t.log, peerstore.Local(t.cfg.Store, t.cfg.Bus), max(t.cfg.Heartbeat/4, 10*time.Millisecond))
	if err != nil {
		return nil, fmt.Errorf("tracker: websocket pollers: %w", err)
	}
	context.AfterFunc(ctx, hub.stop)
	wtPing := max(t.cfg.Heartbeat, wtKeepalive)
	h := &handler{t: t, cfg: cfg, ctx: ctx, hub: hub, wtPing: wtPing,
		up: hub.upgrader(cfg.Origins)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", h.healthz)
	if cfg.Gatherer != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(cfg.Gatherer, promhttp.HandlerOpts{}))
	}
	mux.HandleFunc("GET /v1/swarms", h.swarms)
	mux.HandleFunc("GET /v1/swarms/{swarm}", h.swarm)
	mux.HandleFunc("GET /v1/swarms/{swarm}/peers", h.peers)
	mux.HandleFunc("POST /v1/stats", h.stats)
	mux.HandleFunc("GET /v1/ws", h.ws)
	mux.HandleFunc("GET /announce", h.announce)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, CodeNotFound, "no such endpoint: "+r.Method+" "+r.URL.Path)
	})
	return cors(mux), nil
}

func cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		if r.Method == http.MethodOptions {
			w.Header().Set("Access-Control-Allow-Methods", "GET, POST")
			w.Header().Set("Access-Control-Allow-Headers", "Content-Type")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	var e apiError
	e.Error.Code, e.Error.Message = code, msg
	writeJSON(w, status, e)
}

func (h *handler) storeError(w http.ResponseWriter, err error) {
	if errors.Is(err, peerstore.ErrNotFound) {
		writeError(w, http.StatusNotFound, CodeUnknownSwarm, err.Error())
		return
	}
	h.t.log.Warn("store error", "err", err)
	writeError(w, http.StatusServiceUnavailable, CodeUnavailable, "peer registry unavailable")
}

func (h *handler) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := h.t.cfg.Store.Ping(ctx); err != nil {
		writeError(w, http.StatusServiceUnavailable, CodeUnavailable, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "node": h.t.cfg.Node})
}

func (h *handler) swarms(w http.ResponseWriter, r *http.Request) {
	sw, err := h.t.cfg.Store.Swarms(r.Context())
	if err != nil {
		h.storeError(w, err)
		return
	}
	if sw == nil {
		sw = []peerstore.SwarmInfo{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"swarms": sw})
}

// swarmView is GET /v1/swarms/{swarm}.
type swarmView struct {
	peerstore.SwarmInfo
	Offload float64    `json:"offload"`
	List    []peerView `json:"peer_list"`
}

type peerView struct {
	ID        string          `json:"id"`
	UptimeS   float64         `json:"uptime_s"`
	UploadCap int64           `json:"upload_capacity"`
	UpRate    int64           `json:"upload_rate"`
	Stats     peerstore.Stats `json:"stats"`
}

func (h *handler) swarm(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("swarm")
	si, err := h.t.cfg.Store.Swarm(r.Context(), id)
	if err != nil {
		h.storeError(w, err)
		return
	}
	peers, err := h.t.Ranked(r.Context(), id, "", 1000)
	if err != nil {
		h.storeError(w, err)
		return
	}
	v := swarmView{SwarmInfo: si, Offload: Offload(si.Totals), List: make([]peerView, len(peers))}
	now := h.t.cfg.Now()
	for i, p := range peers {
		v.List[i] = peerView{ID: p.ID, UptimeS: now.Sub(p.Joined).Seconds(), UploadCap: p.UploadCap, UpRate: p.UpRate, Stats: p.Stats}
	}
	writeJSON(w, http.StatusOK, v)
}

func (h *handler) peers(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("swarm")
	n := 20
	if s := r.URL.Query().Get("size"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 || v > 200 {
			writeError(w, http.StatusBadRequest, CodeBadMessage, "size must be 1..200")
			return
		}
		n = v
	}
	peers, err := h.t.Ranked(r.Context(), id, r.URL.Query().Get("peer"), n)
	if err != nil {
		h.storeError(w, err)
		return
	}
	out := make([]map[string]string, len(peers))
	for i, p := range peers {
		out[i] = map[string]string{"id": p.ID}
	}
	writeJSON(w, http.StatusOK, map[string]any{"peers": out})
}

// StatsReport is the body of POST /v1/stats.
type StatsReport struct {
	Swarm     string `json:"swarm"`
	Peer      string `json:"peer"`
	Key       string `json:"key"`
	UploadCap int64  `json:"upload_capacity"`
	peerstore.Stats
}

func (h *handler) stats(w http.ResponseWriter, r *http.Request) {
	var rep StatsReport
	dec := json.NewDecoder(io.LimitReader(r.Body, 16<<10))
	if err := dec.Decode(&rep); err != nil {
		writeError(w, http.StatusBadRequest, CodeBadJSON, "malformed stats report: "+err.Error())
		return
	}
	if rep.BytesCDN < 0 || rep.BytesP2P < 0 || rep.BytesUploaded < 0 || rep.Stalls < 0 || rep.UploadCap < 0 {
		writeError(w, http.StatusBadRequest, CodeBadMessage, "negative counter")
		return
	}
	p, err := h.t.cfg.Store.Get(r.Context(), rep.Swarm, rep.Peer)
	if errors.Is(err, peerstore.ErrNotFound) {
		writeError(w, http.StatusNotFound, CodeUnknownPeer, "no peer "+truncate(rep.Peer, 64)+" in that swarm")
		return
	}
	if err != nil {
		h.storeError(w, err)
		return
	}
	if p.Key == "" || subtle.ConstantTimeCompare([]byte(p.Key), []byte(rep.Key)) != 1 {
		h.t.m.errors.WithLabelValues(CodeBadToken).Inc()
		writeError(w, http.StatusForbidden, CodeBadToken, "wrong stats key")
		return
	}
	err = h.t.cfg.Store.Report(r.Context(), rep.Swarm, rep.Peer, peerstore.Report{Stats: rep.Stats, UploadCap: rep.UploadCap, At: h.t.cfg.Now()})
	if err != nil {
		h.storeError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *handler) ws(w http.ResponseWriter, r *http.Request) {
	h.serveWS(w, r, h.t.cfg.Heartbeat, func(sess *Session) msgHandler { return sess }, func(ctx context.Context, sess *Session) { sess.Disconnect(ctx) })
}

// announce serves the WebTorrent tracker protocol (wt.go) on /announce.
func (h *handler) announce(w http.ResponseWriter, r *http.Request) {
	var wc *wtConn
	h.serveWS(w, r, h.wtPing, func(sess *Session) msgHandler { wc = newWTConn(h.t, sess); return wc },
		func(ctx context.Context, sess *Session) { wc.close(ctx); sess.Disconnect(ctx) })
}
