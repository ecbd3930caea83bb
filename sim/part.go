package sim

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"time"
)

// A part holds some of an arm's viewers with their own event loop, random
// source and counters, so that the parts can run on their own cores between
// barriers (conservative parallel simulation). A viewer's engine, player and
// CDN fetches run on its part's loop; the only thing that crosses parts is a
// message between neighbours, and it takes at least half an RTT, so a part can
// run that far ahead of the others without missing one (the lookahead).
// Everything that touches viewers of several parts at once — joins, leaves,
// the tracker, link set-up and removal, publishing, sampling — runs on the
// world's own loop while every part is stopped at the same instant.
type part struct {
	w           *World
	idx         int
	loop        Loop
	rng         *rand.Rand
	out         [][]slot // messages for other parts' viewers, by part, given at the next barrier
	drop        [][2]*node
	cdnRequests int64
	cdnBytes    int64
	errors      int64
	corrupt     int64
	tally       tally // how stripes came (stripes.go)
}

// latency is one message's one-way trip: half the RTT, jitter, a loss.
func (p *part) latency() time.Duration {
	cfg := p.w.cfg
	d := cfg.RTT / 2
	if cfg.Jitter > 0 {
		d += time.Duration(p.rng.Int64N(int64(cfg.Jitter)))
	}
	if cfg.Loss > 0 && p.rng.Float64() < cfg.Loss {
		d += cfg.RTT
	}
	return d
}

// deliver runs r at t on to's part: now if it is this part, else at the next
// barrier (t is at least a lookahead away, so that is in time).
func (p *part) deliver(to *part, t time.Duration, r runner) {
	if to == p {
		p.loop.post(t, r)
		return
	}
	p.out[to.idx] = append(p.out[to.idx], slot{at: t, r: r})
}

// dropLink asks for a link to be removed at the next barrier: the two ends
// may be on different parts.
func (p *part) dropLink(a, b *node) { p.drop = append(p.drop, [2]*node{a, b}) }

// lookahead is how far parts run past the earliest of them: the shortest
// one-way trip of a message; one part alone runs to the world's next event.
func (w *World) lookahead() time.Duration {
	if len(w.parts) == 1 {
		return w.end() + time.Hour
	}
	return w.cfg.RTT / 2
}

// runUntil runs the arm to end: the world's loop and the parts' in turn.
// When the world's next event comes first every part is brought to its
// instant and it runs alone; otherwise the parts run at once up to the
// earliest part's next event plus the lookahead (or the world's next event,
// if sooner), and then the messages that crossed are handed over.
func (w *World) runUntil(end time.Duration) {
	for _, p := range w.parts[1:] {
		go w.work(p, w.gen.Load())
	}
	defer func() {
		w.quit.Store(true)
		w.gen.Add(1)
	}()
	for i := 0; ; i++ {
		w.exchange()
		if i%64 == 0 && w.loop.stopped() {
			return
		}
		g, gok := w.loop.next()
		p, pok := w.partsNext()
		switch {
		case !gok && !pok:
			return
		case gok && (!pok || g <= p):
			if g > end {
				w.settle(end)
				return
			}
			w.settle(g)
			w.loop.runBefore(g + 1)
		default:
			if p > end {
				w.settle(end)
				return
			}
			b := min(p+w.lookahead(), end+1)
			if gok {
				b = min(b, g)
			}
			w.runParts(b)
			w.loop.now = max(w.loop.now, b) // links dropped meanwhile go at b
		}
	}
}

// runParts runs every part's events before b, the first on this goroutine
// and the others on their workers. A window is short (a fraction of a
// millisecond of work), so the workers spin for the next one rather than
// sleep: waking a sleeping goroutine costs about as much as the window.
func (w *World) runParts(b time.Duration) {
	if len(w.parts) == 1 {
		w.parts[0].loop.runBefore(b)
		return
	}
	w.bound = b
	w.pending.Store(int32(len(w.parts) - 1))
	w.gen.Add(1)
	w.parts[0].loop.runBefore(b)
	for w.pending.Load() != 0 {
		runtime.Gosched()
	}
}

// work is part p's worker: it runs p's share of each window until quit.
func (w *World) work(p *part, seen uint64) {
	for {
		g := w.gen.Load()
		if g == seen {
			runtime.Gosched()
			continue
		}
		seen = g
		if w.quit.Load() {
			return
		}
		p.loop.runBefore(w.bound)
		w.pending.Add(-1)
	}
}

// exchange hands each part the messages the others sent it, in part order
// (a seed replays exactly), and queues the links to drop on the world's loop.
func (w *World) exchange() {
	for _, from := range w.parts {
		for to, q := range from.out {
			for _, s := range q {
				if s.at < w.parts[to].loop.now {
					panic(fmt.Sprintf("sim: a message for %v reached its part at %v: the lookahead is wrong", s.at, w.parts[to].loop.now))
				}
				w.parts[to].loop.post(s.at, s.r)
			}
			clear(q)
			from.out[to] = q[:0]
		}
		for _, d := range from.drop {
			w.loop.Post(w.loop.now, func() { w.unlink(d[0], d[1]) })
		}
		from.drop = from.drop[:0]
	}
}

// settle brings every clock to t, when nothing is left before it.
func (w *World) settle(t time.Duration) {
	w.loop.now = max(w.loop.now, t)
	for _, p := range w.parts {
		p.loop.now = max(p.loop.now, t)
	}
}

func (w *World) partsNext() (time.Duration, bool) {
	var t time.Duration
	ok := false
	for _, p := range w.parts {
		if pt, pok := p.loop.next(); pok && (!ok || pt < t) {
			t, ok = pt, true
		}
	}
	return t, ok
}

// events is how many events the arm ran, on every loop.
func (w *World) events() int64 { return w.loop.n + w.sum(func(p *part) int64 { return p.loop.n }) }

func (w *World) errors() int64  { return w.sum(func(p *part) int64 { return p.errors }) }
func (w *World) corrupt() int64 { return w.sum(func(p *part) int64 { return p.corrupt }) }

// sum adds up one counter of every part.
func (w *World) sum(f func(*part) int64) int64 {
	var n int64
	for _, p := range w.parts {
		n += f(p)
	}
	return n
}
