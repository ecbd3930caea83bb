package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strings"

	"github.com/p2phls/p2phls/engine"
	"github.com/p2phls/p2phls/hls"
	"github.com/p2phls/p2phls/web"
)

// runWeb serves the player page and the swarm overview for one stream.
func runWeb(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("web", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:8080", "address of the page")
	playlist := fs.String("playlist", "", "the stream's playlist URL (master or media)")
	trackerURL := fs.String("tracker", "", "tracker WebSocket URL, ws://host/v1/ws (empty: CDN only)")
	ice := fs.String("ice", "", "ICE servers for browsers: stun:host:port,turn:user:pass@host:port")
	loopback := fs.Bool("loopback", false, "ask browsers for a media device so Chromium offers loopback candidates (tests, demo)")
	maxUpload := fs.String("max-upload", "0", "each browser viewer's upload cap, bytes/s with optional k/M suffix or bits with kbit/Mbit (0 = 4x the stream)")
	leafPull := fs.Bool("leaf-pull", false, "a stripe a browser viewer roots with no child in it comes from neighbours' spare upload instead of the CDN (less CDN, more delay)")
	deadline := fs.Duration("deadline", 0, "how long after a segment appears a browser's player needs it; the CDN completes what peers have not brought by then (0: 2 segments, at least 2 s; 1.5s suits 1 s segments)")
	util := fs.Float64("utilization", 0, "share of a browser viewer's upload cap given to children (0: 0.8); higher feeds more peers, so more offload for more delay")
	piece := fs.Int("piece", 0, "bytes per piece a browser viewer sends to peers, 1024-65536 (0: 16 KiB from 2 s segments, 4 KiB for 1 s ones)")
	logger := logFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	log, err := logger()
	if err != nil {
		return err
	}
	if *playlist == "" {
		return fmt.Errorf("--playlist is required")
	}
	cfg, err := webConfig(*playlist, *trackerURL, *ice, *loopback)
	if err != nil {
		return err
	}
	upload, err := parseRate(*maxUpload)
	if err != nil {
		return fmt.Errorf("web: --max-upload: %w", err)
	}
	if *deadline < 0 {
		return fmt.Errorf("web: --deadline %v: want >= 0", *deadline)
	}
	if err := engine.CheckPieceSize(*piece); err != nil {
		return fmt.Errorf("web: --piece %w", err)
	}
	if err := engine.CheckUtilization(*util); err != nil {
		return fmt.Errorf("web: --utilization %w", err)
	}
	cfg.UploadCap, cfg.LeafPull, cfg.DeadlineMS, cfg.PieceSize, cfg.Utilization = upload, *leafPull, deadline.Milliseconds(), *piece, *util
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("web: listen: %w", err)
	}
	fmt.Fprintf(stdout, "page http://%s/  swarm http://%s/swarm.html\n", ln.Addr(), ln.Addr())
	return serveWeb(ctx, log, ln, cfg)
}

func serveWeb(ctx context.Context, log *slog.Logger, ln net.Listener, cfg web.Config) error {
	if !web.Built() {
		log.Warn("browser peer not built in: the page plays from the CDN only", "err", web.ErrNotBuilt)
		cfg.CDNOnly = true
	}
	return serveListener(ctx, log, "web", ln, web.Handler(cfg))
}

// webConfig is what the page needs: the stream, the tracker's two faces and
// the swarm id the overview shows.
func webConfig(playlist, trackerURL, ice string, loopback bool) (web.Config, error) {
	cfg := web.Config{Playlist: playlist, Tracker: trackerURL, Loopback: loopback, CDNOnly: trackerURL == ""}
	if trackerURL != "" {
		u, err := url.Parse(trackerURL)
		if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") {
			return cfg, fmt.Errorf("--tracker: want ws:// or wss://, got %q", trackerURL)
		}
		cfg.TrackerHTTP = strings.Replace(u.Scheme, "ws", "http", 1) + "://" + u.Host
	}
	id, err := hls.SwarmID(playlist)
	if err != nil {
		return cfg, fmt.Errorf("--playlist: %w", err)
	}
	cfg.Swarm = id
	servers, err := parseICE(ice)
	if err != nil {
		return cfg, err
	}
	for _, s := range servers {
		cred, _ := s.Credential.(string)
		cfg.ICEServers = append(cfg.ICEServers, web.ICEServer{URLs: s.URLs, Username: s.Username, Credential: cred})
	}
	return cfg, nil
}
