// A page running stock p2p-media-loader v2 (core + hls.js integration) against
// our tracker's /announce: bundled by esbuild for web/e2e (tests only).
import Hls from "hls.js";
import { HlsJsP2PEngine } from "p2p-media-loader-hlsjs"; // aliased to its self-contained dist build (Makefile)

window.startP2PML = (src, tracker, sync) => {
  const st = { p2p: 0, http: 0, uploaded: 0, peers: 0, errors: [], fed: [], playing: false, waiting: 0, stalls: 0 };
  window.p2pmlState = st;
  const HlsWithP2P = HlsJsP2PEngine.injectMixin(Hls);
  const hls = new HlsWithP2P({
    liveSyncDurationCount: sync || 3,
    p2p: {
      // live: only the next 2 s must come by HTTP; further ahead, peers first
      core: { announceTrackers: [tracker], rtcConfig: { iceServers: [] }, highDemandTimeWindow: 2, httpDownloadTimeWindow: 4, p2pDownloadTimeWindow: 60 },
      onHlsJsCreated(h) {
        h.p2pEngine.addEventListener("onChunkDownloaded", (bytes, source) => {
          if (source === "p2p") st.p2p += bytes; else st.http += bytes;
        });
        h.p2pEngine.addEventListener("onChunkUploaded", (bytes) => { st.uploaded += bytes; });
        h.p2pEngine.addEventListener("onPeerConnect", () => { st.peers++; });
      },
    },
  });
  hls.on(Hls.Events.ERROR, (_, d) => {
    if (d.fatal) st.errors.push(d.details);
    if (d.details === Hls.ErrorDetails.BUFFER_STALLED_ERROR) st.stalls++;
  });
  hls.on(Hls.Events.FRAG_LOADED, (_, d) => { // what reaches hls.js, to compare with the origin's bytes
    const copy = d.payload.slice(0);
    crypto.subtle.digest("SHA-256", copy).then((h) => {
      st.fed.push({ url: d.frag.url, bytes: copy.byteLength, sha256: Array.from(new Uint8Array(h), (b) => b.toString(16).padStart(2, "0")).join("") });
    });
  });
  const video = document.getElementById("video");
  // a stall, as on the p2phls demo page: the buffer ran dry after playback began
  video.addEventListener("playing", () => { st.playing = true; });
  video.addEventListener("waiting", () => { if (st.playing) st.waiting++; });
  hls.loadSource(src);
  hls.attachMedia(video);
  video.muted = true;
  video.play().catch(() => {});
};
