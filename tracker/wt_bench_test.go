package tracker

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/p2phls/p2phls/tracker/peerstore"
)

type nullSink struct{ n int }

func (s *nullSink) Send([]byte) bool  { s.n++; return true }
func (s *nullSink) Close(int, string) {}

// BenchmarkWTAnnounce: the handling of one plain WebTorrent re-announce and
// of one with 5 offers (relayed to 5 members), without the WebSocket layer:
// CPU and allocations per message (`go test -bench WTAnnounce -benchmem ./tracker`).
func BenchmarkWTAnnounce(b *testing.B) {
	for _, offers := range []int{0, 5} {
		b.Run(fmt.Sprintf("offers=%d", offers), func(b *testing.B) {
			ctx := context.Background()
			mem := peerstore.NewMemory(time.Now)
			t, err := New(ctx, Config{Store: mem, Bus: mem})
			if err != nil {
				b.Fatal(err)
			}
			defer t.Shutdown(ctx)
			const ih = "abcdefghij0123456789"
			var conns []*wtConn
			for i := range 20 {
				s, err := t.Connect(&nullSink{}, fmt.Sprintf("127.0.0.1:%d", 1000+i), nil)
				if err != nil {
					b.Fatal(err)
				}
				c := newWTConn(t, s)
				c.Handle(ctx, fmt.Appendf(nil, `{"action":"announce","info_hash":%q,"peer_id":"peer%016d","numwant":0,"event":"started"}`, ih, i))
				conns = append(conns, c)
			}
			msg := fmt.Appendf(nil, `{"action":"announce","info_hash":%q,"peer_id":"peer%016d","numwant":%d,"left":1,"uploaded":0,"downloaded":0`, ih, 0, offers)
			if offers > 0 {
				msg = append(msg, `,"offers":[`...)
				for i := range offers {
					if i > 0 {
						msg = append(msg, ',')
					}
					msg = fmt.Appendf(msg, `{"offer":{"type":"offer","sdp":"v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"},"offer_id":"%020d"}`, i)
				}
				msg = append(msg, ']')
			}
			msg = append(msg, '}')
			conns[0].conn.lim.SetLimit(1e9)
			conns[0].conn.lim.SetBurst(1e9)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				conns[0].Handle(ctx, msg)
			}
		})
	}
}
