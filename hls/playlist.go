// Package hls is what sits between p2phls and any HLS server: live playlist
// parsing (gohlslib pkg/playlist), segment identity shared by every viewer,
// a follower of a live playlist, and the multi-source CDN fetcher.
package hls

import (
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/bluenviron/gohlslib/v2/pkg/playlist"
)

// MaxPlaylist is the largest playlist accepted, in bytes.
const MaxPlaylist = 1 << 20

// ErrBadPlaylist is wrapped by every parse error.
var ErrBadPlaylist = errors.New("hls: bad playlist")

// ByteRange is a part of a resource: Length bytes from Start.
type ByteRange struct {
	Start, Length int64
}

// Equal reports that r and o are the same range, or both nil (whole resource).
func (r *ByteRange) Equal(o *ByteRange) bool {
	return r == nil && o == nil || r != nil && o != nil && *r == *o
}

// Header is the HTTP Range header value for r.
func (r ByteRange) Header() string { return fmt.Sprintf("bytes=%d-%d", r.Start, r.Start+r.Length-1) }

// Segment is one media segment of a media playlist.
type Segment struct {
	Seq           int64         // media sequence number
	URL           string        // absolute, resolved against the playlist URL
	Duration      time.Duration // EXTINF
	Discontinuity bool          // EXT-X-DISCONTINUITY before it
	DiscSeq       int           // discontinuity sequence the segment belongs to
	DateTime      *time.Time    // EXT-X-PROGRAM-DATE-TIME
	Range         *ByteRange    // EXT-X-BYTERANGE
	Map           *Map          // EXT-X-MAP in force
	Gap           bool          // EXT-X-GAP
}

// Map is an initialization section (EXT-X-MAP).
type Map struct {
	URL   string
	Range *ByteRange
}

// Media is a parsed media playlist.
type Media struct {
	TargetDuration time.Duration
	MediaSequence  int64
	DiscSeq        int
	Segments       []Segment
	Endlist        bool
	// CanBlockReload: the server holds a reload that asks for a media
	// sequence number (_HLS_msn) until that segment exists
	// (EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES).
	CanBlockReload bool
}

// Variant is one entry of a master playlist: a rendition with its URL.
type Variant struct {
	URL        string
	Bandwidth  int
	Codecs     []string
	Resolution string
	Group      string // for alternative renditions: GROUP-ID
	Type       string // "" for EXT-X-STREAM-INF, else AUDIO, SUBTITLES…
	Name       string
}

// Master is a parsed master (multivariant) playlist.
type Master struct {
	Variants []Variant // EXT-X-STREAM-INF, then EXT-X-MEDIA with a URI
}

// Parse decodes a media or master playlist fetched from base. Exactly one of
// the results is non-nil when err is nil. Hostile input gets an error wrapping
// ErrBadPlaylist, never a panic.
func Parse(base string, b []byte) (media *Media, master *Master, err error) {
	if len(b) > MaxPlaylist {
		return nil, nil, fmt.Errorf("%w: %d bytes exceeds %d", ErrBadPlaylist, len(b), MaxPlaylist)
	}
	u, err := url.Parse(base)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: base URL: %w", ErrBadPlaylist, err)
	}
	defer func() {
		if r := recover(); r != nil {
			media, master, err = nil, nil, fmt.Errorf("%w: parser panic: %v", ErrBadPlaylist, r)
		}
	}()
	pl, err := playlist.Unmarshal(b)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrBadPlaylist, err)
	}
	switch p := pl.(type) {
	case *playlist.Media:
		m, err := fromMedia(u, p)
		return m, nil, err
	case *playlist.Multivariant:
		m, err := fromMaster(u, p)
		return nil, m, err
	}
	return nil, nil, fmt.Errorf("%w: unknown playlist kind %T", ErrBadPlaylist, pl)
}

func resolve(base *url.URL, ref string) (string, error) {
	r, err := url.Parse(ref)
	if err != nil {
		return "", fmt.Errorf("%w: URI %q: %w", ErrBadPlaylist, ref, err)
	}
	abs := base.ResolveReference(r)
	if abs.Scheme != "http" && abs.Scheme != "https" {
		return "", fmt.Errorf("%w: URI %q is not http(s)", ErrBadPlaylist, ref)
	}
	return abs.String(), nil
}

func byteRange(length, start *uint64, prevEnd int64) *ByteRange {
	if length == nil {
		return nil
	}
	s := prevEnd
	if start != nil {
		s = int64(*start)
	}
	return &ByteRange{Start: s, Length: int64(*length)}
}

func fromMedia(base *url.URL, p *playlist.Media) (*Media, error) {
	m := &Media{TargetDuration: time.Duration(p.TargetDuration) * time.Second, MediaSequence: int64(p.MediaSequence), Endlist: p.Endlist}
	m.CanBlockReload = p.ServerControl != nil && p.ServerControl.CanBlockReload
	if p.DiscontinuitySequence != nil {
		m.DiscSeq = *p.DiscontinuitySequence
	}
	var mp *Map
	if p.Map != nil {
		u, err := resolve(base, p.Map.URI)
		if err != nil {
			return nil, err
		}
		mp = &Map{URL: u, Range: byteRange(p.Map.ByteRangeLength, p.Map.ByteRangeStart, 0)}
	}
	disc := m.DiscSeq
	var prevEnd int64
	for i, s := range p.Segments {
		u, err := resolve(base, s.URI)
		if err != nil {
			return nil, err
		}
		if s.Discontinuity {
			disc++
		}
		seg := Segment{Seq: m.MediaSequence + int64(i), URL: u, Duration: s.Duration, Discontinuity: s.Discontinuity,
			DiscSeq: disc, DateTime: s.DateTime, Map: mp, Gap: s.Gap, Range: byteRange(s.ByteRangeLength, s.ByteRangeStart, prevEnd)}
		if seg.Range != nil {
			prevEnd = seg.Range.Start + seg.Range.Length
		}
		m.Segments = append(m.Segments, seg)
	}
	return m, nil
}

func fromMaster(base *url.URL, p *playlist.Multivariant) (*Master, error) {
	m := &Master{}
	for _, v := range p.Variants {
		u, err := resolve(base, v.URI)
		if err != nil {
			return nil, err
		}
		m.Variants = append(m.Variants, Variant{URL: u, Bandwidth: v.Bandwidth, Codecs: v.Codecs, Resolution: v.Resolution})
	}
	for _, r := range p.Renditions {
		if r.URI == nil || *r.URI == "" {
			continue // muxed into the variants
		}
		u, err := resolve(base, *r.URI)
		if err != nil {
			return nil, err
		}
		m.Variants = append(m.Variants, Variant{URL: u, Group: r.GroupID, Type: string(r.Type), Name: r.Name})
	}
	return m, nil
}

// Resolve resolves ref against the playlist URL base, as Parse does.
func Resolve(base, ref string) (string, error) {
	b, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("%w: base %q: %w", ErrBadPlaylist, base, err)
	}
	return resolve(b, ref)
}
