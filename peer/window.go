package peer

import (
	"bytes"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/p2phls/p2phls/hls"
)

// keep is how many segments the window remembers (ready or not).
const keep = 32

// listed is how many ready segments the player's playlist shows.
const listed = 6

// entry is one segment as the player sees it, under a local sequence number
// that keeps growing across encoder restarts.
type entry struct {
	local   int64
	item    hls.Item
	disc    bool // a discontinuity before it (upstream's, or a new epoch)
	discSeq int64
	appear  time.Time
	ready   bool
	initial bool // came with the first playlist
	asked   bool // the CDN completion was pulled forward for a waiting player
	gone    bool // given up on (the CDN failed it past its deadline)
	data    []byte
	init    int // index into window.inits of its EXT-X-MAP, -1 for none
}

// window is the segments of one rendition, oldest first. Guarded by Node.mu.
type window struct {
	entries  []*entry
	next     int64
	discSeq  int64
	epoch    int
	target   time.Duration
	ended    bool
	inits    []hls.Map // EXT-X-MAP sections seen, by index
	lastDisc int
}

func (w *window) add(it hls.Item, now time.Time) *entry {
	e := &entry{local: w.next, item: it, appear: now, init: -1}
	w.next++
	if len(w.entries) > 0 && (it.Discontinuity || w.entries[len(w.entries)-1].gone || it.Epoch != w.epoch || it.DiscSeq != w.lastDisc) {
		e.disc = true
		w.discSeq++
	}
	w.epoch, w.lastDisc = it.Epoch, it.DiscSeq
	e.discSeq = w.discSeq
	if it.Map != nil {
		e.init = w.initIndex(*it.Map)
	}
	w.entries = append(w.entries, e)
	if len(w.entries) > keep {
		w.entries = w.entries[1:]
	}
	return e
}

func (w *window) initIndex(m hls.Map) int {
	for i, x := range w.inits {
		if x.URL == m.URL && x.Range.Equal(m.Range) {
			return i
		}
	}
	w.inits = append(w.inits, m)
	return len(w.inits) - 1
}

func (w *window) byID(id string) *entry {
	for i := len(w.entries) - 1; i >= 0; i-- {
		if w.entries[i].item.ID == id {
			return w.entries[i]
		}
	}
	return nil
}

func (w *window) byURL(u string, r *hls.ByteRange) *entry {
	for i := len(w.entries) - 1; i >= 0; i-- {
		if it := w.entries[i].item; it.URL == u && it.Range.Equal(r) {
			return w.entries[i]
		}
	}
	return nil
}

func (w *window) byLocal(n int64) *entry {
	if len(w.entries) == 0 {
		return nil
	}
	i := n - w.entries[0].local
	if i < 0 || i >= int64(len(w.entries)) {
		return nil
	}
	return w.entries[i]
}

// shown returns the segments the playlist lists: the last `listed` of the
// run that starts at the first ready one and ends before the first one not
// ready (the player never asks for what is not there). Segments given up on
// are skipped; the next one carries a discontinuity (markGone).
func (w *window) shown() []*entry {
	var out []*entry
	for _, e := range w.entries {
		switch {
		case e.ready:
			out = append(out, e)
		case e.gone:
		case len(out) > 0:
			return out[max(0, len(out)-listed):]
		}
	}
	return out[max(0, len(out)-listed):]
}

// started says the player may have its first playlist: a segment is ready
// and none of the first playlist's segments is still on its way, so a player
// starting a few segments behind live gets its whole start buffer at once.
func (w *window) started() bool {
	for _, e := range w.entries {
		if e.initial && !e.ready && !e.gone {
			return false
		}
	}
	return len(w.shown()) > 0
}

// markGone gives up on e: the segment after it starts a discontinuity.
func (w *window) markGone(e *entry) {
	e.gone = true
	for i, x := range w.entries {
		if x != e || i+1 >= len(w.entries) || w.entries[i+1].disc {
			continue
		}
		w.entries[i+1].disc = true
		for _, y := range w.entries[i+1:] {
			y.discSeq++
		}
		w.discSeq++
	}
}

// playlist renders the player's media playlist; its URIs are relative, so
// the same text serves /live.m3u8 and /r/{i}/live.m3u8.
func (w *window) playlist() []byte {
	es := w.shown()
	var b bytes.Buffer
	td := int((w.target + time.Second - 1) / time.Second)
	for _, e := range es {
		td = max(td, int((e.item.Duration+time.Second-1)/time.Second))
	}
	fmt.Fprintf(&b, "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:%d\n", td)
	if len(es) > 0 {
		fmt.Fprintf(&b, "#EXT-X-MEDIA-SEQUENCE:%d\n#EXT-X-DISCONTINUITY-SEQUENCE:%d\n", es[0].local, es[0].discSeq)
	}
	lastInit := -1
	for i, e := range es {
		if e.disc && i > 0 {
			b.WriteString("#EXT-X-DISCONTINUITY\n")
		}
		if e.init >= 0 && (e.init != lastInit || e.disc) {
			fmt.Fprintf(&b, "#EXT-X-MAP:URI=\"init/%d%s\"\n", e.init, ext(w.inits[e.init].URL, ".mp4"))
		}
		lastInit = e.init
		if e.item.DateTime != nil {
			fmt.Fprintf(&b, "#EXT-X-PROGRAM-DATE-TIME:%s\n", e.item.DateTime.UTC().Format("2006-01-02T15:04:05.000Z"))
		}
		fmt.Fprintf(&b, "#EXTINF:%.3f,\n", e.item.Duration.Seconds())
		if e.item.Gap {
			b.WriteString("#EXT-X-GAP\n")
		}
		fmt.Fprintf(&b, "seg/%d%s\n", e.local, ext(e.item.URL, ".ts"))
	}
	if w.ended && len(es) > 0 && es[len(es)-1] == w.entries[len(w.entries)-1] {
		b.WriteString("#EXT-X-ENDLIST\n")
	}
	return b.Bytes()
}

// ext is the file extension of a URL's path, or def.
func ext(u, def string) string {
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		u = u[:i]
	}
	if x := path.Ext(u); len(x) > 1 && len(x) <= 5 {
		return x
	}
	return def
}
