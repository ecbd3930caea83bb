package peerstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is a Store and Bus on a Redis server shared by several tracker nodes.
//
// Keys (prefix P, default "p2phls:"):
//
//	P peer:{swarm}:{id}  string, the peer as JSON, expiring with its TTL
//	P members:{swarm}    sorted set: peer id scored by expiry (unix ms)
//	P swarms             sorted set: swarm id scored by its latest peer expiry
//	P totals:{swarm}     hash: stats totals of the swarm (kept 24 h after last use)
//	P node:{node}        pub/sub channel of a tracker node
type Redis struct {
	rdb    *redis.Client
	prefix string
	now    func() time.Time
}

const totalsTTL = 24 * time.Hour

// NewRedis connects to the Redis server at url (redis://host:port/db).
func NewRedis(url, prefix string, now func() time.Time) (*Redis, error) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("peerstore: redis url: %w", err)
	}
	opt.MaxRetries = 1
	opt.DialTimeout = 2 * time.Second
	if prefix == "" {
		prefix = "p2phls:"
	}
	if now == nil {
		now = time.Now
	}
	return &Redis{rdb: redis.NewClient(opt), prefix: prefix, now: now}, nil
}

func (r *Redis) kPeer(swarm, id string) string { return r.prefix + "peer:" + swarm + ":" + id }
func (r *Redis) kMembers(swarm string) string  { return r.prefix + "members:" + swarm }
func (r *Redis) kTotals(swarm string) string   { return r.prefix + "totals:" + swarm }
func (r *Redis) kSwarms() string               { return r.prefix + "swarms" }
func (r *Redis) kNode(node string) string      { return r.prefix + "node:" + node }

func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("peerstore: redis %s: %w: %w", op, ErrUnavailable, err)
}

func (r *Redis) ms(t time.Time) float64 { return float64(t.UnixMilli()) }

func (r *Redis) putCmds(p redis.Pipeliner, peer Peer, ttl time.Duration) error {
	b, err := json.Marshal(peer)
	if err != nil {
		return err
	}
	exp := r.ms(r.now().Add(ttl))
	p.Set(context.Background(), r.kPeer(peer.Swarm, peer.ID), b, ttl)
	p.ZAdd(context.Background(), r.kMembers(peer.Swarm), redis.Z{Score: exp, Member: peer.ID})
	p.ZAddGT(context.Background(), r.kSwarms(), redis.Z{Score: exp, Member: peer.Swarm})
	return nil
}

// Put implements Store.
func (r *Redis) Put(ctx context.Context, peer Peer, ttl time.Duration) error {
	_, err := r.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error { return r.putCmds(p, peer, ttl) })
	return wrap("put", err)
}

// Refresh implements Store.
func (r *Redis) Refresh(ctx context.Context, peers []Peer, ttl time.Duration) error {
	if len(peers) == 0 {
		return nil
	}
	exp := r.ms(r.now().Add(ttl))
	cmds := make([]*redis.BoolCmd, len(peers))
	_, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, peer := range peers {
			cmds[i] = p.PExpire(ctx, r.kPeer(peer.Swarm, peer.ID), ttl)
			p.ZAdd(ctx, r.kMembers(peer.Swarm), redis.Z{Score: exp, Member: peer.ID})
			p.ZAddGT(ctx, r.kSwarms(), redis.Z{Score: exp, Member: peer.Swarm})
		}
		return nil
	})
	if err != nil {
		return wrap("refresh", err)
	}
	for i, c := range cmds { // entries lost (Redis restarted empty): add them again
		if !c.Val() {
			if err := r.Put(ctx, peers[i], ttl); err != nil {
				return err
			}
		}
	}
	return nil
}

// Remove implements Store.
func (r *Redis) Remove(ctx context.Context, swarm, id string) error {
	_, err := r.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, r.kPeer(swarm, id))
		p.ZRem(ctx, r.kMembers(swarm), id)
		return nil
	})
	return wrap("remove", err)
}

// Get implements Store.
func (r *Redis) Get(ctx context.Context, swarm, id string) (Peer, error) {
	b, err := r.rdb.Get(ctx, r.kPeer(swarm, id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return Peer{}, fmt.Errorf("peer %q in swarm %q: %w", id, swarm, ErrNotFound)
	}
	if err != nil {
		return Peer{}, wrap("get", err)
	}
	var p Peer
	if err := json.Unmarshal(b, &p); err != nil {
		return Peer{}, fmt.Errorf("peerstore: corrupt entry %q: %w", id, err)
	}
	return p, nil
}

// List implements Store.
func (r *Redis) List(ctx context.Context, swarm string) ([]Peer, error) {
	now := strconv.FormatInt(r.now().UnixMilli(), 10)
	r.rdb.ZRemRangeByScore(ctx, r.kMembers(swarm), "-inf", now)
	ids, err := r.rdb.ZRange(ctx, r.kMembers(swarm), 0, -1).Result()
	if err != nil {
		return nil, wrap("list", err)
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = r.kPeer(swarm, id)
	}
	return r.peers(ctx, keys)
}

// Sample implements Store: ZRANDMEMBER (Redis 6.2 or later) then one MGET;
// members whose expiry has passed are skipped and cleared.
func (r *Redis) Sample(ctx context.Context, swarm string, n int) ([]Peer, error) {
	if n <= 0 {
		return nil, nil
	}
	now := r.now().UnixMilli()
	var zs *redis.ZSliceCmd
	_, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.ZRemRangeByScore(ctx, r.kMembers(swarm), "-inf", strconv.FormatInt(now, 10))
		zs = p.ZRandMemberWithScores(ctx, r.kMembers(swarm), n)
		return nil
	})
	if err != nil {
		return nil, wrap("sample", err)
	}
	var keys []string
	for _, z := range zs.Val() {
		if id, ok := z.Member.(string); ok && z.Score > float64(now) {
			keys = append(keys, r.kPeer(swarm, id))
		}
	}
	return r.peers(ctx, keys)
}

// peers reads the entries of keys, skipping those gone meanwhile.
func (r *Redis) peers(ctx context.Context, keys []string) ([]Peer, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	vals, err := r.rdb.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, wrap("list", err)
	}
	out := make([]Peer, 0, len(vals))
	for _, v := range vals {
		s, ok := v.(string)
		if !ok {
			continue // expired between the two reads
		}
		var p Peer
		if json.Unmarshal([]byte(s), &p) == nil {
			out = append(out, p)
		}
	}
	return out, nil
}

// Swarms implements Store.
func (r *Redis) Swarms(ctx context.Context) ([]SwarmInfo, error) {
	now := strconv.FormatInt(r.now().UnixMilli(), 10)
	r.rdb.ZRemRangeByScore(ctx, r.kSwarms(), "-inf", now)
	ids, err := r.rdb.ZRange(ctx, r.kSwarms(), 0, -1).Result()
	if err != nil {
		return nil, wrap("swarms", err)
	}
	out := make([]SwarmInfo, 0, len(ids))
	for _, id := range ids {
		si, err := r.Swarm(ctx, id)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, si)
	}
	return out, nil
}

// Swarm implements Store.
func (r *Redis) Swarm(ctx context.Context, id string) (SwarmInfo, error) {
	now := strconv.FormatInt(r.now().UnixMilli(), 10)
	var cnt *redis.IntCmd
	var tot *redis.MapStringStringCmd
	_, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		cnt = p.ZCount(ctx, r.kMembers(id), "("+now, "+inf")
		tot = p.HGetAll(ctx, r.kTotals(id))
		return nil
	})
	if err != nil {
		return SwarmInfo{}, wrap("swarm", err)
	}
	if cnt.Val() == 0 {
		return SwarmInfo{}, fmt.Errorf("swarm %q: %w", id, ErrNotFound)
	}
	t := tot.Val()
	n := func(k string) int64 { v, _ := strconv.ParseInt(t[k], 10, 64); return v }
	return SwarmInfo{ID: id, Peers: int(cnt.Val()), Totals: Stats{n("bytes_cdn"), n("bytes_p2p"), n("bytes_uploaded"), n("stalls")}}, nil
}

// Report implements Store. The peer entry and the swarm totals change in one
// transaction, retried if the entry changed meanwhile.
func (r *Redis) Report(ctx context.Context, swarm, id string, rep Report) error {
	key := r.kPeer(swarm, id)
	txf := func(tx *redis.Tx) error {
		b, err := tx.Get(ctx, key).Bytes()
		if errors.Is(err, redis.Nil) {
			return fmt.Errorf("peer %q in swarm %q: %w", id, swarm, ErrNotFound)
		}
		if err != nil {
			return err
		}
		var p Peer
		if err := json.Unmarshal(b, &p); err != nil {
			return fmt.Errorf("peerstore: corrupt entry %q: %w", id, err)
		}
		d := rep.Stats.Delta(p.Stats)
		p.UpRate = upRate(p, rep)
		p.Stats, p.Reported = rep.Stats, rep.At
		if rep.UploadCap > 0 {
			p.UploadCap = rep.UploadCap
		}
		nb, _ := json.Marshal(p)
		_, err = tx.TxPipelined(ctx, func(pp redis.Pipeliner) error {
			pp.SetArgs(ctx, key, nb, redis.SetArgs{KeepTTL: true})
			tk := r.kTotals(swarm)
			pp.HIncrBy(ctx, tk, "bytes_cdn", d.BytesCDN)
			pp.HIncrBy(ctx, tk, "bytes_p2p", d.BytesP2P)
			pp.HIncrBy(ctx, tk, "bytes_uploaded", d.BytesUploaded)
			pp.HIncrBy(ctx, tk, "stalls", d.Stalls)
			pp.Expire(ctx, tk, totalsTTL)
			return nil
		})
		return err
	}
	for range 5 {
		err := r.rdb.Watch(ctx, txf, key)
		if errors.Is(err, redis.TxFailedErr) {
			continue
		}
		if err != nil && !errors.Is(err, ErrNotFound) {
			return wrap("report", err)
		}
		return err
	}
	return wrap("report", redis.TxFailedErr)
}

// Ping implements Store.
func (r *Redis) Ping(ctx context.Context) error { return wrap("ping", r.rdb.Ping(ctx).Err()) }

// Close implements Store.
func (r *Redis) Close() error { return r.rdb.Close() }

// Publish implements Bus.
func (r *Redis) Publish(ctx context.Context, node string, msg []byte) error {
	return wrap("publish", r.rdb.Publish(ctx, r.kNode(node), msg).Err())
}

// Subscribe implements Bus. go-redis re-subscribes by itself after Redis
// returns, so a subscription made while Redis is down still works later: the
// error then only reports that it is not confirmed yet, and stop is valid.
func (r *Redis) Subscribe(ctx context.Context, node string, fn func([]byte)) (func(), error) {
	ps := r.rdb.Subscribe(ctx, r.kNode(node))
	_, rerr := ps.Receive(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m := range ps.Channel() {
			fn([]byte(m.Payload))
		}
	}()
	return func() { _ = ps.Close(); <-done }, wrap("subscribe", rerr)
}
