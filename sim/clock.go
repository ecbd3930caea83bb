// Package sim runs many engines on a simulated network under a virtual clock
// and measures them (DESIGN §4): offload, stalls against a CDN-only arm of the
// same stream, extra delay and control overhead. Event loops on a virtual
// clock, one per part of the viewers, run in parallel windows (part.go).
package sim

import "time"

// Loop is a discrete-event loop: virtual time jumps from event to event.
// The queue is a binary heap of values ordered by (time, sequence), so
// events at the same time run in the order they were scheduled and a seed
// replays exactly.
type Loop struct {
	now  time.Duration
	q    []slot
	seq  uint64
	n    int64           // events run
	stop <-chan struct{} // closed: the world's run returns at its next check
}

// runner is what an event does: a func (Post), a cancellable *event (At),
// or a *flight (a message between viewers: one allocation for both of its
// events, no closures).
type runner interface{ run() }

type fn func()

func (f fn) run() { f() }

type event struct {
	f    func()
	dead bool
}

func (e *event) run() { e.f() }

type slot struct {
	at  time.Duration
	seq uint64
	r   runner
}

func (a slot) before(b slot) bool { return a.at < b.at || a.at == b.at && a.seq < b.seq }

// Now implements engine.Clock.
func (l *Loop) Now() time.Duration { return l.now }

// At runs f at time t (not before now).
func (l *Loop) At(t time.Duration, f func()) func() {
	l.seq++
	e := &event{f: f}
	l.push(slot{at: max(t, l.now), seq: l.seq, r: e})
	return func() { e.dead = true }
}

// Post runs f at time t (not before now), with no way to cancel it: no
// allocation beyond f.
func (l *Loop) Post(t time.Duration, f func()) { l.post(t, fn(f)) }

// post runs r at time t (not before now).
func (l *Loop) post(t time.Duration, r runner) {
	l.seq++
	l.push(slot{at: max(t, l.now), seq: l.seq, r: r})
}

// AfterFunc implements engine.Clock.
func (l *Loop) AfterFunc(d time.Duration, f func()) func() { return l.At(l.now+d, f) }

// push sifts s up from a hole at the end (moves, not swaps).
func (l *Loop) push(s slot) {
	l.q = append(l.q, s)
	i := len(l.q) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !s.before(l.q[p]) {
			break
		}
		l.q[i] = l.q[p]
		i = p
	}
	l.q[i] = s
}

// pop takes the first slot and sifts the last one down from the hole.
func (l *Loop) pop() slot {
	top := l.q[0]
	last := len(l.q) - 1
	s := l.q[last]
	l.q[last] = slot{}
	l.q = l.q[:last]
	if last == 0 {
		return top
	}
	i := 0
	for {
		c := 2*i + 1
		if c >= last {
			break
		}
		if c+1 < last && l.q[c+1].before(l.q[c]) {
			c++
		}
		if !l.q[c].before(s) {
			break
		}
		l.q[i] = l.q[c]
		i = c
	}
	l.q[i] = s
	return top
}

// next is the time of the first event, dead or not.
func (l *Loop) next() (time.Duration, bool) {
	if len(l.q) == 0 {
		return 0, false
	}
	return l.q[0].at, true
}

// runBefore runs the events before b, in order.
func (l *Loop) runBefore(b time.Duration) {
	for len(l.q) > 0 && l.q[0].at < b {
		s := l.pop()
		if e, ok := s.r.(*event); ok && e.dead {
			continue
		}
		l.now = s.at
		l.n++
		s.r.run()
	}
}

func (l *Loop) stopped() bool {
	select {
	case <-l.stop:
		return true
	default:
		return false
	}
}
