// The swarm overview: every viewer of the swarm, from the tracker's stats.
(async function () {
  "use strict";
  const cfg = await (await fetch("config.json")).json();
  const swarm = new URLSearchParams(location.search).get("swarm") || cfg.swarm;
  const chart = new Chart(document.getElementById("chart"), 180);
  let prev = null;
  const fmt = Chart.bytes;
  async function tick() {
    let s;
    try { s = await (await fetch(cfg.trackerHTTP + "/v1/swarms/" + encodeURIComponent(swarm))).json(); } catch (e) { return; }
    const list = s.peer_list || [];
    const t = s.totals || {};
    document.getElementById("summary").textContent = `swarm ${swarm}: ${list.length} viewers, offload ` +
      `${(100 * (s.offload || 0)).toFixed(1)} %, ${fmt(t.bytes_p2p || 0)} from peers, ${fmt(t.bytes_cdn || 0)} from the CDN, ${t.stalls || 0} stalls`;
    if (prev) chart.push(Math.max(0, (t.bytes_p2p || 0) - (prev.bytes_p2p || 0)) / 2, Math.max(0, (t.bytes_cdn || 0) - (prev.bytes_cdn || 0)) / 2, s.offload || 0);
    prev = t;
    const body = document.querySelector("#peers tbody");
    body.replaceChildren(...list.map((p) => {
      const tr = document.createElement("tr");
      const st = p.stats || {};
      const tot = (st.bytes_p2p || 0) + (st.bytes_cdn || 0);
      [p.id, Math.round(p.uptime_s || 0) + " s", fmt(st.bytes_p2p || 0), fmt(st.bytes_cdn || 0), fmt(st.bytes_uploaded || 0),
        tot ? (100 * st.bytes_p2p / tot).toFixed(1) + " %" : "–", st.stalls || 0, p.upload_capacity ? fmt(p.upload_capacity) + "/s" : "–"]
        .forEach((v) => { const td = document.createElement("td"); td.textContent = v; tr.append(td); });
      return tr;
    }));
  }
  tick();
  setInterval(tick, 2000);
})();
