package sim

// uplink is a viewer's upload with a queue per link, served in turn one
// message at a time: a burst to one neighbour (a new child's catch-up, a
// pull) takes its share of the upload, not all of it, and a link that
// carries two stripes gets no more than one that carries one, as real links
// share an uplink, each one flow (an SCTP association) with its own buffer.
// Links whose next message is a push to a child that forwards it (engine
// Message.Forward) are served first, in turn among themselves, as the
// transport's paced uplink sends them (unless Config.PlainTurns). With
// Config.FIFOUplink the upload is one first-in first-out queue instead
// (node.Send).
type uplink struct {
	n      *node
	queues map[*node]*linkQueue
	first  []*linkQueue // queues whose next message is a Forward push, in turn
	turn   []*linkQueue // the other queues with messages, in turn
	busy   *flight      // on the wire until the transmitter's event
}

// linkQueue is one link's messages. A queue with messages is in turn and in
// queues; the last message put on the wire takes it out of both.
type linkQueue struct {
	to   *node
	msgs []*flight
}

// push queues f for its receiver and starts the transmitter if idle.
func (u *uplink) push(f *flight) {
	q := u.queues[f.to]
	if q == nil {
		if u.queues == nil {
			u.queues = map[*node]*linkQueue{}
		}
		q = &linkQueue{to: f.to}
		u.queues[f.to] = q
	}
	q.msgs = append(q.msgs, f)
	if len(q.msgs) == 1 {
		u.wait(q)
	}
	if u.busy == nil {
		u.next()
	}
}

// next puts the head of the next queue in turn on the wire.
func (u *uplink) next() {
	n := u.n
	for len(u.first)+len(u.turn) > 0 {
		var q *linkQueue
		if len(u.first) > 0 {
			q, u.first = u.first[0], u.first[1:]
		} else {
			q, u.turn = u.turn[0], u.turn[1:]
		}
		f := q.msgs[0]
		q.msgs[0] = nil
		q.msgs = q.msgs[1:]
		if len(q.msgs) > 0 {
			u.wait(q)
		} else {
			delete(u.queues, q.to)
		}
		if !n.alive || n.links[f.to.id] == nil {
			continue // the link is gone, and its buffer with it
		}
		u.busy = f
		n.p.loop.post(n.p.loop.Now()+dur(f.size/n.up), u)
		return
	}
}

// run implements runner: the message on the wire has left; the next goes.
func (u *uplink) run() {
	f, p := u.busy, u.n.p
	u.busy = nil
	if u.n.alive {
		p.deliver(f.to.p, p.loop.Now()+p.latency(), f)
	}
	u.next()
}

// wait puts q, which has messages, at the end of its turn: the first turn
// if its next message is a Forward push.
func (u *uplink) wait(q *linkQueue) {
	if q.msgs[0].msg.Forward && !u.n.w.cfg.PlainTurns {
		u.first = append(u.first, q)
	} else {
		u.turn = append(u.turn, q)
	}
}
