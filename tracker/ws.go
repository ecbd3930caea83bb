package tracker

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lesismal/nbio/nbhttp"
	"github.com/lesismal/nbio/nbhttp/websocket"
)

// WebSocket connections, after net/http's handshake, are handed to nbio's
// epoll pollers: an idle connection holds no goroutine and no buffer, only
// its socket, nbio's small state and the Session. A message is handled on
// nbio's worker pool, one at a time per connection, in order; a reply is
// written at once without blocking (nbio keeps what the socket cannot take
// yet, up to sendBuffer, past which the client is too slow and dropped).

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
	eng     *nbhttp.Engine
	mu      sync.RWMutex
	conns   map[*websocket.Conn]*wsConn
	pending map[*websocket.Conn][]wsMsg // messages that came before the connection was registered
	gone    map[*websocket.Conn]bool    // closed before it was registered
}

type wsMsg struct {
	text bool
	data []byte
}

func newWSHub(log *slog.Logger) (*wsHub, error) {
	useNbioLog(log)
	eng := nbhttp.NewEngine(nbhttp.Config{Name: "p2phls-tracker", MaxWriteBufferSize: sendBuffer,
		MaxWebsocketFramePayloadSize: hardReadLimit})
	if err := eng.Start(); err != nil {
		return nil, err
	}
	return &wsHub{eng: eng, conns: map[*websocket.Conn]*wsConn{}, pending: map[*websocket.Conn][]wsMsg{},
		gone: map[*websocket.Conn]bool{}}, nil
}

func (h *wsHub) stop() { h.eng.Stop() }

// upgrader accepts WebSockets whose Origin is allowed, pings every hb and
// drops a client silent for two heartbeats and the longest handling.
func (h *wsHub) upgrader(origins []string, hb time.Duration) *websocket.Upgrader {
	u := websocket.NewUpgrader()
	u.Engine = h.eng
	u.CheckOrigin = func(r *http.Request) bool { return originAllowed(r, origins) }
	u.KeepaliveTime = 2*hb + handleTimeout
	u.MessageLengthLimit = hardReadLimit
	u.OnMessage(h.onMessage)
	u.OnClose(h.onClose)
	return u
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
	sink *wsSink
	mu   sync.Mutex // one message at a time, in order
	h    msgHandler
	sess *Session
	end  func(context.Context, *Session)
	ping *time.Timer
	busy atomic.Bool // a message came since the last ping tick
	done atomic.Bool
}

// keepalive pings the client every hb unless it sent something since the
// last tick (its messages already keep the read deadline fresh), so busy
// connections cost no pings.
func (wc *wsConn) keepalive(c *websocket.Conn, hb time.Duration) {
	wc.ping = time.AfterFunc(hb, func() {
		if wc.done.Load() {
			return
		}
		if !wc.busy.Swap(false) {
			if err := c.WriteMessage(websocket.PingMessage, nil); err != nil {
				return
			}
			wc.sess.t.m.pings.Inc()
		}
		wc.ping.Reset(hb)
	})
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
	wc.busy.Store(true)
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
	if wc.ping != nil {
		wc.ping.Stop()
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
func (h *handler) serveWS(w http.ResponseWriter, r *http.Request, u *websocket.Upgrader, ping time.Duration, mk func(*Session) msgHandler, end func(context.Context, *Session)) {
	c, err := u.UpgradeAndTransferConnToPoller(w, r, nil)
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
	wc := &wsConn{sink: sink, h: mk(sess), sess: sess, end: end}
	wc.keepalive(c, ping)
	h.hub.register(c, wc)
}
