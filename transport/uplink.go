package transport

import (
	"context"
	"sync"

	"golang.org/x/time/rate"
)

// uplink paces a Network's sends at its upload cap (Config.Upload) and
// chooses what goes next. Each link has a queue; links whose next message
// is marked first (SendFirst: a push to a child that forwards it, so a
// subtree waits on it) are served before the others, in turn among
// themselves, then the others in turn, a message at a time. Without it the
// links' flows share the line alike (each PeerConnection its own SCTP
// association), and a piece reaches a child that forwards it at that
// child's share of the upload, level after level down a tree.
type uplink struct {
	lim       *rate.Limiter
	send      func(l *link, b []byte) bool // puts b on l's DataChannel
	highWater int

	mu     sync.Mutex
	queues map[*link]*sendQueue
	first  []*sendQueue // queues whose next message is marked first, in turn
	turn   []*sendQueue // the other queues with messages, in turn
	wake   chan struct{}
}

// sendQueue is one link's messages not yet sent.
type sendQueue struct {
	l     *link
	msgs  []queued
	bytes int
}

type queued struct {
	b     []byte
	first bool
}

// paceBurst is the most the limiter lets through at once after an idle
// spell: a 16 KiB piece; longer messages wait for their bytes in steps.
const paceBurst = 16 << 10

func newUplink(rateBps int64, highWater uint64, send func(*link, []byte) bool) *uplink {
	return &uplink{lim: rate.NewLimiter(rate.Limit(rateBps), paceBurst), send: send, highWater: int(min(highWater, 1<<40)),
		queues: map[*link]*sendQueue{}, wake: make(chan struct{}, 1)}
}

// push queues a copy of b for l; false if l's queue already holds more
// than the high-water mark.
func (u *uplink) push(l *link, b []byte, first bool) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	q := u.queues[l]
	if q == nil {
		q = &sendQueue{l: l}
		u.queues[l] = q
	}
	if q.bytes > u.highWater {
		return false
	}
	q.msgs = append(q.msgs, queued{b: append([]byte(nil), b...), first: first})
	q.bytes += len(b)
	if len(q.msgs) == 1 {
		u.wait(q)
		select {
		case u.wake <- struct{}{}:
		default:
		}
	}
	return true
}

// wait puts q, which has messages, at the end of its turn.
func (u *uplink) wait(q *sendQueue) {
	if q.msgs[0].first {
		u.first = append(u.first, q)
	} else {
		u.turn = append(u.turn, q)
	}
}

// next takes the message whose turn it is, if any.
func (u *uplink) next() (*link, []byte, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	var q *sendQueue
	switch {
	case len(u.first) > 0:
		q, u.first = u.first[0], u.first[1:]
	case len(u.turn) > 0:
		q, u.turn = u.turn[0], u.turn[1:]
	default:
		return nil, nil, false
	}
	m := q.msgs[0]
	q.msgs[0] = queued{}
	q.msgs = q.msgs[1:]
	q.bytes -= len(m.b)
	if len(q.msgs) > 0 {
		u.wait(q)
	} else {
		delete(u.queues, q.l)
	}
	return q.l, m.b, true
}

// run sends until ctx ends: the messages whose turn it is, up to a burst's
// bytes at a time, once the limiter has their bytes. One wait for a burst,
// not one for each piece: a wake-up costs a peer's CPU more than a send.
func (u *uplink) run(ctx context.Context) {
	var batch []outgoing
	for {
		batch = batch[:0]
		size := 0
		for size < paceBurst {
			l, b, ok := u.next()
			if !ok {
				break
			}
			batch, size = append(batch, outgoing{l, b}), size+len(b)
		}
		if len(batch) == 0 {
			select {
			case <-u.wake:
				continue
			case <-ctx.Done():
				return
			}
		}
		for n := size; n > 0; n -= paceBurst {
			if u.lim.WaitN(ctx, min(n, paceBurst)) != nil {
				return
			}
		}
		for _, o := range batch {
			u.send(o.l, o.b)
		}
	}
}

// outgoing is a message taken from its queue, to be sent.
type outgoing struct {
	l *link
	b []byte
}

// forget drops l's queue (the link ended).
func (u *uplink) forget(l *link) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if q := u.queues[l]; q != nil {
		delete(u.queues, l)
		q.msgs, q.bytes = nil, 0
		u.first = dropQueue(u.first, q)
		u.turn = dropQueue(u.turn, q)
	}
}

func dropQueue(qs []*sendQueue, q *sendQueue) []*sendQueue {
	for i, x := range qs {
		if x == q {
			return append(qs[:i:i], qs[i+1:]...)
		}
	}
	return qs
}
