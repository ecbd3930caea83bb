package tracker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/p2phls/p2phls/tracker/peerstore"
)

// Sink is the way to one connected client: a WebSocket in production, a
// channel in tests.
type Sink interface {
	// Send queues one message; false means the client cannot keep up and
	// has been closed.
	Send(b []byte) bool
	// Close ends the connection with a WebSocket close code and a reason.
	Close(code int, reason string)
}

// Authorizer checks a join token for a swarm; it returns the peer id the
// token pins ("" for any) or an error.
type Authorizer func(token, swarm string) (peerID string, err error)

// Config of a tracker node. Zero values take the defaults noted.
type Config struct {
	Store      peerstore.Store
	Bus        peerstore.Bus
	Node       string           // node id, random when empty
	Heartbeat  time.Duration    // default 10s; a peer expires after two
	JoinPeers  int              // peers listed in "joined", default 30
	MsgRate    rate.Limit       // messages per second per connection, default 50
	MsgBurst   int              // default 50 (below the send queue)
	Auth       Authorizer       // nil: no token needed
	Integrity  IntegrityService // nil: no digests
	BanReports int              // distinct reporters that get a peer banned, default 2
	BanFor     time.Duration    // default 10 min
	MinSwarm   int              // peer lists stay empty in smaller swarms (privacy: no P2P among few)
	ConnsPerIP int              // 0: no limit
	MsgsPerIP  rate.Limit       // all connections of one address together; 0: no limit
	Logger     *slog.Logger
	Metrics    *Metrics
	Now        func() time.Time
}

// Tracker is one tracker node: it owns the sessions connected to it and
// reaches the others through the Bus.
type Tracker struct {
	cfg   Config
	log   *slog.Logger
	m     *Metrics
	mu    sync.Mutex
	local map[string]*Session    // joined sessions by peer id
	swarm map[string]*localSwarm // the same, by swarm (Publish)
	all   []*Session             // every connection; each knows its index (Session.at)
	stop  func()
	wg    sync.WaitGroup    // connection writers, flushed on Shutdown
	down  bool              // Shutdown began: no new connection (guarded by mu)
	guard guard             // reports and bans (guarded by mu)
	ips   map[string]*perIP // connections and message budget per address (guarded by mu)
	done  chan struct{}
	quit  chan struct{}
}

// ErrClosed is returned by a tracker that is shutting down.
var ErrClosed = errors.New("tracker: closed")

// New starts a tracker node: it subscribes to its bus channel and refreshes
// its peers' entries every heartbeat until Shutdown.
func New(ctx context.Context, cfg Config) (*Tracker, error) {
	if cfg.Store == nil || cfg.Bus == nil {
		return nil, errors.New("tracker: Store and Bus are required")
	}
	setDefaults(&cfg)
	t := &Tracker{cfg: cfg, log: cfg.Logger.With("node", cfg.Node), m: cfg.Metrics,
		local: map[string]*Session{}, swarm: map[string]*localSwarm{},
		ips:   map[string]*perIP{},
		guard: guard{reports: map[string]map[string]bool{}, banned: map[string]time.Time{}}, done: make(chan struct{}), quit: make(chan struct{})}
	stop, err := cfg.Bus.Subscribe(ctx, cfg.Node, t.deliver)
	if err != nil {
		t.log.Warn("bus subscription not confirmed; it will retry", "err", err)
	}
	t.stop = stop
	go t.heartbeat()
	return t, nil
}

func setDefaults(c *Config) {
	if c.Node == "" {
		c.Node = randomID(6)
	}
	if c.Heartbeat <= 0 {
		c.Heartbeat = 10 * time.Second
	}
	if c.JoinPeers <= 0 {
		c.JoinPeers = 30
	}
	if c.BanReports <= 0 {
		c.BanReports = 2
	}
	if c.BanFor <= 0 {
		c.BanFor = 10 * time.Minute
	}
	if c.MsgRate <= 0 {
		c.MsgRate = 50
	}
	if c.MsgBurst <= 0 {
		c.MsgBurst = 50
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Metrics == nil {
		c.Metrics = NewMetrics(nil)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Node returns this node's id.
func (t *Tracker) Node() string { return t.cfg.Node }

// Heartbeat returns the heartbeat interval.
func (t *Tracker) Heartbeat() time.Duration { return t.cfg.Heartbeat }

func (t *Tracker) ttl() time.Duration { return 2 * t.cfg.Heartbeat }

func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// heartbeat refreshes the store entries of this node's peers in one batch.
func (t *Tracker) heartbeat() {
	defer close(t.done)
	tick := time.NewTicker(t.cfg.Heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-t.quit:
			return
		case <-tick.C:
		}
		t.mu.Lock()
		peers := make([]peerstore.Peer, 0, len(t.local))
		for _, s := range t.local {
			peers = append(peers, s.peer)
		}
		t.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), t.cfg.Heartbeat)
		if err := t.cfg.Store.Refresh(ctx, peers, t.ttl()); err != nil {
			t.log.Warn("refreshing peers failed", "peers", len(peers), "err", err)
		}
		cancel()
	}
}

// envelope carries a message to a peer on another node.
type envelope struct {
	To  string          `json:"to"`
	Msg json.RawMessage `json:"msg"`
}

// deliver handles a bus message addressed to this node.
func (t *Tracker) deliver(b []byte) {
	var e envelope
	if err := json.Unmarshal(b, &e); err != nil {
		t.log.Warn("bad bus message", "err", err)
		return
	}
	t.mu.Lock()
	s := t.local[e.To]
	t.mu.Unlock()
	if s != nil {
		s.sink.Send(e.Msg)
	}
}

// route sends msg to peer id of swarm, on whichever node it is connected.
func (t *Tracker) route(ctx context.Context, swarm, id string, msg []byte) error {
	t.mu.Lock()
	s := t.local[id]
	t.mu.Unlock()
	if s != nil {
		if s.peer.Swarm != swarm {
			return protoErr(CodeUnknownPeer, "no peer %q in swarm %q", truncate(id, 64), swarm)
		}
		s.sink.Send(msg)
		return nil
	}
	p, err := t.cfg.Store.Get(ctx, swarm, id)
	if errors.Is(err, peerstore.ErrNotFound) || (err == nil && p.Node == t.cfg.Node) {
		return protoErr(CodeUnknownPeer, "no peer %q in swarm %q", truncate(id, 64), swarm)
	}
	if err != nil {
		return protoErr(CodeUnavailable, "peer registry unavailable")
	}
	if err := t.cfg.Bus.Publish(ctx, p.Node, encode(envelope{To: id, Msg: msg})); err != nil {
		return protoErr(CodeUnavailable, "relay to node %s failed", p.Node)
	}
	return nil
}

// Connect registers a new client connection.
//
// writer, when not nil, is the connection's writer loop: it runs on a
// goroutine Shutdown waits for. Connect refuses a connection once Shutdown
// has begun (ErrClosed) or past the per-address limit (ErrTooManyConns).
func (t *Tracker) Connect(sink Sink, remote string, writer func()) (*Session, error) {
	s := &Session{t: t, sink: sink, remote: remote, lim: rate.NewLimiter(t.cfg.MsgRate, t.cfg.MsgBurst)}
	t.mu.Lock()
	if t.down {
		t.mu.Unlock()
		return nil, ErrClosed
	}
	ip, err := t.admit(hostOf(remote))
	if err != nil {
		t.mu.Unlock()
		t.m.errors.WithLabelValues("too_many_connections").Inc()
		return nil, err
	}
	s.ip = ip
	s.at, t.all = int32(len(t.all)), append(t.all, s)
	if writer != nil {
		t.wg.Add(1) // under mu: never concurrent with Shutdown's Wait
		go func() { defer t.wg.Done(); writer() }()
	}
	t.mu.Unlock()
	t.m.connections.Inc()
	return s, nil
}

// Shutdown tells every client the node is going away, closes them and removes
// their entries, then stops the node.
func (t *Tracker) Shutdown(ctx context.Context) {
	t.mu.Lock()
	t.down = true
	sessions := slices.Clone(t.all)
	t.mu.Unlock()
	bye := encode(noticeMsg{Type: "shutdown", Message: "tracker node going away; reconnect"})
	for _, s := range sessions {
		s.sink.Send(bye)
		s.sink.Close(CloseGoingAway, "tracker shutting down")
		s.Disconnect(ctx)
	}
	flushed := make(chan struct{})
	go func() { t.wg.Wait(); close(flushed) }()
	select { // let the writers deliver the notice and the close frame
	case <-flushed:
	case <-ctx.Done():
	}
	select {
	case <-t.quit:
	default:
		close(t.quit)
	}
	<-t.done
	if t.stop != nil {
		t.stop()
	}
}

// Ranked returns up to n peers of swarm, best first, never exclude: the
// best of a random sample of rankPool(n) members.
func (t *Tracker) Ranked(ctx context.Context, swarm, exclude string, n int) ([]peerstore.Peer, error) {
	peers, err := t.cfg.Store.Sample(ctx, swarm, rankPool(n))
	if err != nil {
		return nil, fmt.Errorf("tracker: list %s: %w", swarm, err)
	}
	return RankInPlace(nil, peers, exclude, n, t.cfg.Now()), nil
}

// rankPool is how many random members of a swarm the best n are ranked
// from: the whole swarm when it is small; in a large one, a sample, so that
// a join or an announce costs the same in a swarm of a million.
func rankPool(n int) int { return 4*n + 1 }

// localSwarm is the sessions of one swarm joined on this node, and the
// swarm's id, which new members of the swarm share (sharedSwarm).
type localSwarm struct {
	id      string
	members map[*Session]struct{}
}

// forget removes s from the connections (if Connect made it). Under t.mu.
func (t *Tracker) forget(s *Session) {
	if int(s.at) >= len(t.all) || t.all[s.at] != s {
		return
	}
	last := t.all[len(t.all)-1]
	t.all[s.at], last.at = last, s.at
	t.all[len(t.all)-1] = nil
	t.all = t.all[:len(t.all)-1]
}

// sharedSwarm is swarm id as a string: the very string the swarm's members
// on this node hold when it has some, so that thousands of members share
// one copy (and a []byte id is looked up without a copy).
func sharedSwarm[T string | []byte](t *Tracker, id T) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if ls := t.swarm[string(id)]; ls != nil {
		return ls.id
	}
	return string(id)
}

// addLocal makes s the local session of its peer id (a pinned id joined
// again: the newer wins). Under t.mu.
func (t *Tracker) addLocal(s *Session) {
	if old := t.local[s.peer.ID]; old != nil && old != s {
		old.joined = false
		t.removeLocal(old)
	}
	t.local[s.peer.ID] = s
	ls := t.swarm[s.peer.Swarm]
	if ls == nil {
		ls = &localSwarm{id: s.peer.Swarm, members: map[*Session]struct{}{}}
		t.swarm[ls.id] = ls
	}
	ls.members[s] = struct{}{}
}

// removeLocal forgets s. Under t.mu.
func (t *Tracker) removeLocal(s *Session) {
	if t.local[s.peer.ID] == s {
		delete(t.local, s.peer.ID)
	}
	if ls := t.swarm[s.peer.Swarm]; ls != nil {
		delete(ls.members, s)
		if len(ls.members) == 0 {
			delete(t.swarm, s.peer.Swarm)
		}
	}
}
