// The demo page: hls.js with the p2phls loader, and a live panel.
(async function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const cfg = await (await fetch("config.json")).json();
  const demo = { errors: [], waiting: 0, playing: false, chartP2P: 0 };
  window.p2phlsDemo = demo;
  const log = (msg) => {
    const li = document.createElement("li");
    li.textContent = new Date().toLocaleTimeString() + "  " + msg;
    $("events").prepend(li);
    while ($("events").children.length > 50) $("events").lastChild.remove();
  };
  if (cfg.loopback && navigator.mediaDevices) {
    // Chromium offers loopback ICE candidates only to pages allowed a media device (demo and tests on 127.0.0.1).
    try { (await navigator.mediaDevices.getUserMedia({ audio: true })).getTracks().forEach((t) => t.stop()); } catch (e) { /* no loopback peers */ }
  }
  const p2p = new P2PHls({ core: {
    announceTrackers: [cfg.tracker], rtcConfig: { iceServers: cfg.iceServers || [] },
    isP2PDisabled: !!cfg.cdnOnly, recordHashes: true, wasmUrl: "p2phls.wasm",
    uploadCap: cfg.uploadCap || 0, leafPull: !!cfg.leafPull, deadlineMs: cfg.deadlineMs || 0, pieceSize: cfg.pieceSize || 0,
    utilization: cfg.utilization || 0,
  } });
  demo.p2p = p2p;
  const video = $("video");
  const hls = new Hls(Object.assign({ liveSyncDurationCount: 3 }, p2p.hlsConfig()));
  demo.hls = hls;
  p2p.bindHls(hls);
  hls.on(Hls.Events.ERROR, (_, d) => {
    if (d.fatal) { demo.errors.push(d.type + ": " + d.details); log("fatal player error: " + d.details); }
  });
  hls.loadSource(cfg.playlist);
  hls.attachMedia(video);
  video.addEventListener("playing", () => { demo.playing = true; $("status").textContent = "playing " + cfg.playlist; });
  video.addEventListener("waiting", () => { if (demo.playing) { demo.waiting++; log("stall: the buffer ran dry"); } });
  p2p.ready && p2p.ready.then(() => log("peer engine loaded: segments now come from peers first"),
    (e) => log("peer engine failed, CDN only: " + e.message));
  p2p.addEventListener("onPeerConnect", () => log("a peer connected"));
  p2p.addEventListener("onPeerClose", () => log("a peer left"));

  const chart = new Chart($("chart"), 120);
  let prev = null;
  p2p.addEventListener("onStats", (s) => {
    const t = s.total;
    $("p2p").textContent = Chart.bytes(t.bytes_p2p);
    $("cdn").textContent = Chart.bytes(t.bytes_cdn);
    $("up").textContent = Chart.bytes(t.bytes_uploaded);
    $("peers").textContent = t.peers;
    $("offload").textContent = (100 * t.offload).toFixed(1) + " %";
    $("stalls").textContent = demo.waiting;
    if (hls.latency) $("latency").textContent = hls.latency.toFixed(1) + " s";
    if (prev) {
      chart.push(t.bytes_p2p - prev.bytes_p2p, t.bytes_cdn - prev.bytes_cdn, t.offload);
      demo.chartP2P += t.bytes_p2p - prev.bytes_p2p;
    }
    prev = t;
  });
  if (cfg.trackerHTTP && cfg.swarm) {
    setInterval(async () => {
      try {
        const s = await (await fetch(cfg.trackerHTTP + "/v1/swarms/" + cfg.swarm)).json();
        $("swarm-offload").textContent = (100 * (s.offload || 0)).toFixed(1) + " %";
      } catch (e) { /* tracker away: keep the last figure */ }
    }, 2000);
  }
})();
