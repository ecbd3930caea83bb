package hls

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"path"
	"strings"
)

// SwarmID derives the swarm of a rendition from its playlist URL. Only the
// path counts: scheme, host and query string are ignored, so tokenized URLs
// and several CDN hosts of one stream share a swarm. The result is a readable
// prefix of the path plus a hash of the whole path, within the tracker's
// swarm id alphabet [A-Za-z0-9._~:-] and 128 characters.
func SwarmID(playlistURL string) (string, error) {
	u, err := url.Parse(playlistURL)
	if err != nil {
		return "", fmt.Errorf("hls: swarm id of %q: %w", playlistURL, err)
	}
	p := path.Clean("/" + u.Path)
	sum := sha256.Sum256([]byte(p))
	readable := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			return r
		}
		return '~'
	}, strings.TrimPrefix(p, "/"))
	if len(readable) > 80 {
		readable = readable[len(readable)-80:]
	}
	return readable + "-" + hex.EncodeToString(sum[:6]), nil
}

// SegmentID names a segment within its swarm: the encoder epoch (see
// Follower), the media sequence and the URI path without host or query.
// Viewers that see the same segment compute the same id.
func SegmentID(epoch int, s Segment) string {
	return fmt.Sprintf("%d/%s", epoch, ContentKey(s))
}

// ContentKey names a segment's content without the epoch: "{seq}/{path}"
// plus "@start+len" for a byte range. The tracker's integrity service and
// the peers, who count epochs each from their own start, meet on it.
func ContentKey(s Segment) string {
	p := s.URL
	if u, err := url.Parse(s.URL); err == nil {
		p = u.Path
	}
	id := fmt.Sprintf("%d/%s", s.Seq, path.Clean("/"+p))
	if s.Range != nil {
		id += fmt.Sprintf("@%d+%d", s.Range.Start, s.Range.Length)
	}
	return id
}

// Origin is the scheme://host of an http(s) URL, lower case; "" for anything
// else.
func Origin(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return ""
	}
	return strings.ToLower(u.Scheme + "://" + u.Host)
}
