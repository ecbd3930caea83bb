package tracker

import (
	"context"
	"io"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// hardReadLimit closes a connection whose message exceeds it; messages between
// MaxMessage and this are discarded with a too_large error.
const hardReadLimit = 1 << 20

// sendQueue is how many messages may wait for a slow client before it is dropped.
const sendQueue = 128

// handleTimeout bounds the handling of one message (store round trips).
const handleTimeout = 3 * time.Second

// wsSink is a Sink on a coder/websocket connection. One goroutine writes and
// pings; the handler goroutine reads.
type wsSink struct {
	c      *websocket.Conn
	out    chan []byte
	closed chan struct{}
	once   sync.Once
	code   websocket.StatusCode
	reason string
	hb     time.Duration
}

func newWSSink(c *websocket.Conn, hb time.Duration) *wsSink {
	return &wsSink{c: c, out: make(chan []byte, sendQueue), closed: make(chan struct{}), hb: hb}
}

func (s *wsSink) Send(b []byte) bool {
	select {
	case <-s.closed:
		return false
	default:
	}
	select {
	case s.out <- b:
		return true
	default:
		s.Close(ClosePolicy, "slow consumer")
		return false
	}
}

func (s *wsSink) Close(code int, reason string) {
	s.once.Do(func() {
		s.code, s.reason = websocket.StatusCode(code), reason
		close(s.closed)
	})
}

// writeLoop writes queued messages and pings every heartbeat; a failed write
// or ping drops the connection.
func (s *wsSink) writeLoop() {
	tick := time.NewTicker(s.hb)
	defer tick.Stop()
	for {
		select {
		case b := <-s.out:
			if s.write(b) != nil {
				s.c.CloseNow()
				return
			}
		case <-tick.C:
			// The pong is read by the reader, which may be busy with one message
			// for up to handleTimeout: allow more than that.
			ctx, cancel := context.WithTimeout(context.Background(), max(s.hb, 2*handleTimeout))
			err := s.c.Ping(ctx)
			cancel()
			if err != nil {
				s.c.CloseNow()
				return
			}
		case <-s.closed:
			s.drain()
			_ = s.c.Close(s.code, s.reason)
			return
		}
	}
}

func (s *wsSink) drain() {
	for {
		select {
		case b := <-s.out:
			if s.write(b) != nil {
				return
			}
		default:
			return
		}
	}
}

func (s *wsSink) write(b []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return s.c.Write(ctx, websocket.MessageText, b)
}

// msgHandler is what a connection's messages go to: a Session (our protocol)
// or a wtConn (WebTorrent's).
type msgHandler interface {
	Handle(ctx context.Context, raw []byte)
	TooLarge()
}

// readLoop feeds the handler until the connection ends.
func readLoop(ctx context.Context, c *websocket.Conn, sess msgHandler) {
	for {
		typ, r, err := c.Reader(ctx)
		if err != nil {
			return
		}
		b, err := io.ReadAll(io.LimitReader(r, MaxMessage+1))
		if err != nil {
			return
		}
		if len(b) > MaxMessage {
			if _, err := io.Copy(io.Discard, r); err != nil {
				return
			}
			sess.TooLarge()
			continue
		}
		hctx, cancel := context.WithTimeout(ctx, handleTimeout)
		if typ != websocket.MessageText {
			b = []byte(`{"type":"binary"}`)
		}
		sess.Handle(hctx, b)
		cancel()
	}
}
