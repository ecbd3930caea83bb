package tracker

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lesismal/nbio/nbhttp"
	"github.com/lesismal/nbio/nbhttp/websocket"
)

// WebSocket connections, after net/http's handshake, are handed to nbio's
// epoll pollers: an idle connection holds no goroutine, no buffer and no
// timer, only its socket, nbio's small state and the Session. A message is
// handled one at a time per connection, in order: on the poller itself when
// the peer store never waits on a network (in memory), else on nbio's worker
// pool (Redis: a round trip must not hold up the poller's other
// connections). A reply is written at once without blocking (nbio keeps what
// the socket cannot take yet, up to sendBuffer, past which the client is too
// slow and dropped). One sweeper for all connections pings the quiet ones and
// closes the silent ones.

// hardReadLimit closes a connection whose message exceeds it; messages between
// MaxMessage and this are discarded with a too_large error.
const hardReadLimit = 1 << 20

// sendBuffer is how many bytes may wait for a slow client before it is dropped.
const sendBuffer = 1 << 20

// handleTimeout bounds the handling of one message (store round trips).
const handleTimeout = 3 * time.Second

// closeDelay lets a close frame leave before the socket is closed.
const closeDelay = 100 * time.Millisecond

// msgHandler is what a connection's messages go to: a Session (our protocol)
// or a wtConn (WebTorrent's).
type msgHandler interface {
	Handle(ctx context.Context, raw []byte)
	TooLarge()
}

// wsHub owns the pollers and finds each connection's state.
type wsHub struct {
	eng  *nbhttp.Engine
	done chan struct{}
	// upgrading is held shared by each upgrade in flight and exclusively by
	// stop, so the pollers never stop under an upgrade handing them its
	// connection; stopped: upgrades after it are refused.
	upgrading sync.RWMutex
	stopped   bool
	mu        sync.RWMutex
	conns     map[*websocket.Conn]*wsConn
	pending   map[*websocket.Conn][]wsMsg // messages that came before the connection was registered
	gone      map[*websocket.Conn]bool    // closed before it was registered
}

type wsMsg struct {
	text bool
	data []byte
}

// newWSHub starts the pollers; inline: messages are handled on them (one
// poller per P, so every core handles messages). tick is how often the
// sweeper looks at every connection.
func newWSHub(log *slog.Logger, inline bool, tick time.Duration) (*wsHub, error) {
	useNbioLog(log)
	cfg := nbhttp.Config{Name: "p2phls-tracker", MaxWriteBufferSize: sendBuffer, MaxWebsocketFramePayloadSize: hardReadLimit,
		SupportServerOnly: true}
	if inline {
		cfg.ServerExecutor = func(f func()) { f() }
		cfg.NPoller = runtime.GOMAXPROCS(0)
	}
	eng := nbhttp.NewEngine(cfg)
	if err := eng.Start(); err != nil {
		return nil, err
	}
	h := &wsHub{eng: eng, done: make(chan struct{}), conns: map[*websocket.Conn]*wsConn{},
		pending: map[*websocket.Conn][]wsMsg{}, gone: map[*websocket.Conn]bool{}}
	go h.sweep(tick)
	return h, nil
}

func (h *wsHub) stop() {
	close(h.done)
	h.upgrading.Lock()
	h.stopped = true
	h.upgrading.Unlock()
	h.eng.Stop()
}

// upgrader accepts WebSockets whose Origin is allowed. Pings and pongs
// count as signs of life (nbio's own read deadline is off: the sweeper
// keeps it, one timer for all connections instead of one each).
func (h *wsHub) upgrader(origins []string) *websocket.Upgrader {
	u := websocket.NewUpgrader()
	u.Engine = h.eng
	u.CheckOrigin = func(r *http.Request) bool { return originAllowed(r, origins) }
	u.KeepaliveTime = 0
	u.MessageLengthLimit = hardReadLimit
	u.OnMessage(h.onMessage)
	u.OnClose(h.onClose)
	u.SetPongHandler(func(c *websocket.Conn, _ string) { h.alive(c) })
	u.SetPingHandler(func(c *websocket.Conn, data string) {
		h.alive(c)
		if c.WriteMessage(websocket.PongMessage, []byte(data)) != nil {
			_ = c.Close()
		}
	})
	return u
}

// alive notes a sign of life from c.
func (h *wsHub) alive(c *websocket.Conn) {
	h.mu.RLock()
	wc := h.conns[c]
	h.mu.RUnlock()
	if wc != nil {
		wc.last.Store(time.Now().UnixNano())
	}
}

// originAllowed: no Origin (not a browser), the tracker's own host, or a host
// matching one of the patterns (path.Match, case-insensitive); any when there
// are no patterns.
func originAllowed(r *http.Request, patterns []string) bool {
	o := r.Header.Get("Origin")
	if len(patterns) == 0 || o == "" {
		return true
	}
	u, err := url.Parse(o)
	if err != nil {
		return false
	}
	host := strings.ToLower(u.Host)
	if host == strings.ToLower(r.Host) {
		return true
	}
	for _, p := range patterns {
		if ok, _ := path.Match(strings.ToLower(p), host); ok {
			return true
		}
	}
	return false
}

// wsConn is one registered connection.
type wsConn struct {
	sink   *wsSink
	mu     sync.Mutex // one message at a time, in order
	h      msgHandler
	sess   *Session
	end    func(context.Context, *Session)
	every  time.Duration // ping period when quiet; 0: none (refused)
	last   atomic.Int64  // unix ns of the client's last frame
	pinged atomic.Int64  // unix ns of the last ping
	done   atomic.Bool
}

// register makes c's messages go to wc, first those that came already.
func (h *wsHub) register(c *websocket.Conn, wc *wsConn) {
	wc.mu.Lock()
	defer wc.mu.Unlock()
	h.mu.Lock()
	early, gone := h.pending[c], h.gone[c]
	delete(h.pending, c)
	delete(h.gone, c)
	if !gone {
		h.conns[c] = wc
	}
	h.mu.Unlock()
	if gone {
		wc.closed()
		return
	}
	for _, m := range early {
		wc.handle(m)
	}
}

func (h *wsHub) onMessage(c *websocket.Conn, typ websocket.MessageType, data []byte) {
	m := wsMsg{text: typ == websocket.TextMessage, data: data}
	h.mu.RLock() // every message: a shared lock, the map is written once per connection
	wc := h.conns[c]
	h.mu.RUnlock()
	if wc == nil {
		if wc = h.early(c, m); wc == nil {
			return
		}
	}
	wc.last.Store(time.Now().UnixNano())
	wc.mu.Lock()
	defer wc.mu.Unlock()
	wc.handle(m)
}

// early keeps a message that came before its connection was registered, or
// returns the connection if the registration came meanwhile.
func (h *wsHub) early(c *websocket.Conn, m wsMsg) *wsConn {
	h.mu.Lock()
	defer h.mu.Unlock()
	if wc := h.conns[c]; wc != nil {
		return wc
	}
	if len(h.pending[c]) < 16 {
		h.pending[c] = append(h.pending[c], m)
	}
	return nil
}

// handle takes one message. Under wc.mu.
func (wc *wsConn) handle(m wsMsg) {
	if wc.done.Load() {
		return
	}
	if len(m.data) > MaxMessage {
		wc.h.TooLarge()
		return
	}
	if !m.text {
		m.data = []byte(`{"type":"binary"}`)
	}
	ctx, cancel := context.WithTimeout(context.Background(), handleTimeout)
	wc.h.Handle(ctx, m.data)
	cancel()
}

func (h *wsHub) onClose(c *websocket.Conn, _ error) {
	h.mu.Lock()
	wc := h.conns[c]
	delete(h.conns, c)
	delete(h.pending, c)
	if wc == nil {
		h.gone[c] = true
	}
	h.mu.Unlock()
	if wc != nil {
		wc.closed()
	}
}

// closed ends the connection's session, once.
func (wc *wsConn) closed() {
	if wc.done.Swap(true) {
		return
	}
	wc.sink.closed.Store(true)
	if wc.end == nil { // refused at Connect: no session
		return
	}
	go func() { // the store may take a round trip: not on nbio's workers
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		wc.end(ctx, wc.sess)
	}()
}

// refused takes the messages of a connection refused at Connect, while its
// close frame leaves: none is handled.
type refused struct{}

func (refused) Handle(context.Context, []byte) {}
func (refused) TooLarge()                      {}

// wsSink is a Sink on an nbio WebSocket connection.
type wsSink struct {
	c      *websocket.Conn
	closed atomic.Bool
	once   sync.Once
}

func (s *wsSink) Send(b []byte) bool {
	if s.closed.Load() {
		return false
	}
	if err := s.c.WriteMessage(websocket.TextMessage, b); err != nil {
		s.Close(ClosePolicy, "slow consumer")
		return false
	}
	return true
}

func (s *wsSink) Close(code int, reason string) {
	s.once.Do(func() {
		s.closed.Store(true)
		_ = s.c.WriteClose(code, reason)
		time.AfterFunc(closeDelay, func() { _ = s.c.Close() })
	})
}

// serveWS accepts a WebSocket, registers the connection and hands its
// messages to the handler made for it (pinging it every ping while it is
// quiet); end runs once when it closes.
func (h *handler) serveWS(w http.ResponseWriter, r *http.Request, ping time.Duration, mk func(*Session) msgHandler, end func(context.Context, *Session)) {
	h.hub.upgrading.RLock()
	defer h.hub.upgrading.RUnlock()
	if h.hub.stopped {
		writeError(w, http.StatusServiceUnavailable, CodeUnavailable, "tracker shutting down")
		return
	}
	c, err := h.up.UpgradeAndTransferConnToPoller(w, r, nil)
	if err != nil {
		h.t.log.Debug("websocket accept failed", "remote", r.RemoteAddr, "err", err)
		return
	}
	sink := &wsSink{c: c}
	sess, err := h.t.Connect(sink, r.RemoteAddr, nil)
	if err != nil {
		if errors.Is(err, ErrTooManyConns) {
			h.t.log.Warn("connection refused: too many from this address", "remote", r.RemoteAddr)
			sink.Close(CloseTooMany, "too many connections from this address")
		} else {
			sink.Close(CloseGoingAway, "tracker shutting down")
		}
		h.hub.register(c, &wsConn{sink: sink, h: refused{}}) // so its close is forgotten like any other
		return
	}
	wc := &wsConn{sink: sink, h: mk(sess), sess: sess, end: end, every: ping}
	wc.last.Store(time.Now().UnixNano())
	h.hub.register(c, wc)
}

// sweep, every tick until the hub stops, pings each connection quiet for its
// ping period (a busy one costs no pings) and closes one silent for two
// periods and the longest handling: a vanished host leaves its swarms.
func (h *wsHub) sweep(tick time.Duration) {
	t := time.NewTicker(tick)
	defer t.Stop()
	var ping, dead []*wsConn
	for {
		select {
		case <-h.done:
			return
		case now := <-t.C:
			ping, dead = h.due(now.UnixNano(), ping[:0], dead[:0])
			for _, wc := range ping {
				if wc.sink.c.WriteMessage(websocket.PingMessage, nil) == nil {
					wc.sess.t.m.pings.Inc()
				}
			}
			for _, wc := range dead {
				_ = wc.sink.c.Close()
			}
			clear(ping)
			clear(dead)
		}
	}
}

// due sorts out the connections to ping and those to close at now.
func (h *wsHub) due(now int64, ping, dead []*wsConn) ([]*wsConn, []*wsConn) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, wc := range h.conns {
		if wc.every <= 0 || wc.done.Load() {
			continue
		}
		last := wc.last.Load()
		switch {
		case now-last > int64(2*wc.every+handleTimeout):
			dead = append(dead, wc)
		case now-max(last, wc.pinged.Load()) >= int64(wc.every):
			wc.pinged.Store(now)
			ping = append(ping, wc)
		}
	}
	return ping, dead
}
