// Package sim runs many engines on a simulated network under a virtual clock
// and measures them (DESIGN §4): offload, stalls against a CDN-only arm of the
// same stream, extra delay and control overhead. One event loop, no
// goroutines: 10,000 peers for 10 minutes of stream fit in minutes.
package sim

import (
	"container/heap"
	"time"
)

// Loop is a discrete-event loop: virtual time jumps from event to event.
type Loop struct {
	now time.Duration
	q   events
	seq uint64
	n   int64 // events run
}

type event struct {
	at   time.Duration
	seq  uint64
	f    func()
	dead bool
	idx  int
}

type events []*event

func (q events) Len() int { return len(q) }
func (q events) Less(i, j int) bool {
	if q[i].at != q[j].at {
		return q[i].at < q[j].at
	}
	return q[i].seq < q[j].seq
}
func (q events) Swap(i, j int)     { q[i], q[j] = q[j], q[i]; q[i].idx = i; q[j].idx = j }
func (q *events) Push(x any)       { e := x.(*event); e.idx = len(*q); *q = append(*q, e) }
func (q *events) Pop() any         { old := *q; e := old[len(old)-1]; *q = old[:len(old)-1]; return e }
func (l *Loop) Now() time.Duration { return l.now }

// At runs f at time t (not before now).
func (l *Loop) At(t time.Duration, f func()) func() {
	l.seq++
	e := &event{at: max(t, l.now), seq: l.seq, f: f}
	heap.Push(&l.q, e)
	return func() { e.dead = true }
}

// AfterFunc implements engine.Clock.
func (l *Loop) AfterFunc(d time.Duration, f func()) func() { return l.At(l.now+d, f) }

// Run runs events until the queue is empty or time passes end.
func (l *Loop) Run(end time.Duration) {
	for l.q.Len() > 0 {
		e := heap.Pop(&l.q).(*event)
		if e.dead {
			continue
		}
		if e.at > end {
			l.now = end
			return
		}
		l.now = e.at
		l.n++
		e.f()
	}
}
