// The comparison arm of `p2phls bench tracker --protocol webtorrent`:
// bittorrent-tracker's own server (npm bittorrent-tracker 11.x), WebSocket
// only (no HTTP or UDP tracker, no stats page), on a free loopback port.
// Prints "listening addr=HOST:PORT" on stderr, as our tracker logs it.
import Server from 'bittorrent-tracker/server' // the server module alone: the client would load native WebRTC

const host = process.argv[2] || '127.0.0.1'
const server = new Server({ http: false, udp: false, ws: true, stats: false })
server.on('error', (err) => { console.error('error', err.message); process.exit(1) })
server.on('warning', () => {}) // bad client input: counted by the load generator, not logged per message
server.on('listening', () => {
  const a = server.ws.address()
  console.error(`listening addr=${host}:${a.port}`)
})
server.listen(0, host)
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)))
