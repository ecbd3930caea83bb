package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/pion/webrtc/v4"

	"github.com/p2phls/p2phls/engine"
	"github.com/p2phls/p2phls/peer"
	"github.com/p2phls/p2phls/proxy"
)

func runPeer(ctx context.Context, args []string, _ io.Writer) error {
	fs := flag.NewFlagSet("peer", flag.ContinueOnError)
	playlist := fs.String("playlist", "", "upstream live playlist URL (media or master)")
	trackerURL := fs.String("tracker", "", "tracker WebSocket URL, e.g. ws://127.0.0.1:8090/v1/ws (empty: CDN only)")
	listen := fs.String("listen", "127.0.0.1:8088", "HTTP address for the player: /live.m3u8, /stats, /metrics")
	sources := fs.String("sources", "", "CDN servers in failover order, comma separated (e.g. http://cdn1,http://cdn2)")
	swarm := fs.String("swarm-id", "", "swarm id (default: derived from the playlist URL path)")
	token := fs.String("token", "", "join token, for trackers run with --secret")
	stripes := fs.Int("stripes", 4, "stripes per segment (K)")
	maxUpload := fs.String("max-upload", "0", "upload cap, bytes/s with optional k/M suffix or bits with kbit/Mbit (0 = 4x the stream)")
	consume := fs.Bool("consume-only", false, "never upload (mobile, metered links)")
	sharePl := fs.Bool("share-playlists", false, "pass playlists down the stripe trees; poll the CDN's every 3 target durations while they keep up")
	leafPull := fs.Bool("leaf-pull", false, "a stripe this viewer roots with no child in it comes from neighbours' spare upload instead of the CDN (less CDN, more delay)")
	deadline := fs.Duration("deadline", 0, "how long after a segment appears the player needs it; the CDN completes what peers have not brought by then (0: 2 segments, at least 2 s; 1.5s suits 1 s segments)")
	util := fs.Float64("utilization", 0, "share of the upload cap given to children (0: 0.8); higher feeds more peers, so more offload for more delay (0.875 suits 0.5 s segments)")
	piece := fs.Int("piece", 0, "bytes per piece sent to peers, 1024-65536 (0: 16 KiB from 2 s segments, 4 KiB for 1 s ones); smaller pieces shorten each tree level")
	cdnOnly := fs.Bool("cdn-only", false, "no P2P at all (the comparison arm)")
	corrupt := fs.Bool("test-corrupt", false, "TESTS ONLY: corrupt every piece sent to peers (a poisoner, to show integrity checks)")
	ice := fs.String("ice", "", "STUN/TURN URLs, comma separated (turn:user:pass@host:port for credentials)")
	relay := fs.Bool("relay-only", false, "use only TURN relays (hides this viewer's address from peers)")
	loopback := fs.Bool("loopback", false, "ICE on 127.0.0.1 only (tests and the demo)")
	udp := fs.String("udp", "", "UDP address shared by all peer links (default: any port)")
	neighbours := fs.Int("neighbours", 12, "peer links this viewer opens")
	maxLinks := fs.Int("max-links", 30, "peer links accepted in all")
	logger := logFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	log, err := logger()
	if err != nil {
		return err
	}
	if *playlist == "" {
		return fmt.Errorf("peer: --playlist is required")
	}
	if err := engine.CheckPieceSize(*piece); err != nil {
		return fmt.Errorf("peer: --piece %w", err)
	}
	if err := engine.CheckUtilization(*util); err != nil {
		return fmt.Errorf("peer: --utilization %w", err)
	}
	upload, err := parseRate(*maxUpload)
	if err != nil {
		return fmt.Errorf("peer: --max-upload: %w", err)
	}
	iceServers, err := parseICE(*ice)
	if err != nil {
		return err
	}
	cfg := proxy.Config{Playlist: *playlist, Logger: log, Node: peer.Config{Tracker: *trackerURL, Swarm: *swarm,
		Token: *token, Sources: splitList(*sources), Stripes: *stripes, MaxUpload: upload, ConsumeOnly: *consume, SharePlaylists: *sharePl,
		CDNOnly: *cdnOnly, TestCorrupt: *corrupt, ICEServers: iceServers, RelayOnly: *relay, Loopback: *loopback, UDP: *udp,
		Neighbours: *neighbours, MaxLinks: *maxLinks, LeafPull: *leafPull, Deadline: *deadline, PieceSize: *piece, Utilization: *util, Logger: log}}
	srv, err := proxy.New(ctx, cfg)
	if err != nil {
		return err
	}
	defer srv.Close()
	return serveHTTP(ctx, log, "peer", *listen, srv.Handler())
}

// parseICE reads "stun:host:port,turn:user:pass@host:port".
func parseICE(s string) ([]webrtc.ICEServer, error) {
	var out []webrtc.ICEServer
	for _, u := range splitList(s) {
		srv := webrtc.ICEServer{}
		scheme, rest, ok := strings.Cut(u, ":")
		if !ok {
			return nil, fmt.Errorf("peer: --ice %q: want stun:host:port or turn:user:pass@host:port", u)
		}
		if cred, host, ok := strings.Cut(rest, "@"); ok {
			user, pass, _ := strings.Cut(cred, ":")
			srv.Username, srv.Credential, rest = user, pass, host
		}
		srv.URLs = []string{scheme + ":" + rest}
		out = append(out, srv)
	}
	return out, nil
}

// parseRate reads bytes/s: "500000", "500k", "2M", or bits: "4Mbit", "800kbit".
func parseRate(s string) (int64, error) {
	s = strings.TrimSpace(s)
	mult := 1.0
	bits := false
	if x, ok := strings.CutSuffix(s, "bit"); ok {
		s, bits = x, true
	}
	switch {
	case strings.HasSuffix(s, "k"), strings.HasSuffix(s, "K"):
		mult, s = 1e3, s[:len(s)-1]
	case strings.HasSuffix(s, "M"):
		mult, s = 1e6, s[:len(s)-1]
	case strings.HasSuffix(s, "G"):
		mult, s = 1e9, s[:len(s)-1]
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("bad rate %q: want bytes/s (500k, 2M) or bits (4Mbit)", s)
	}
	if bits {
		v /= 8
	}
	return int64(v * mult), nil
}
