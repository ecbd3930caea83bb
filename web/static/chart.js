// A small time chart on a canvas: two stacked rates and a 0..1 line.
(function (global) {
  "use strict";
  class Chart {
    constructor(canvas, seconds) {
      this.c = canvas; this.ctx = canvas.getContext("2d"); this.n = seconds || 120; this.rows = [];
    }
    push(p2pRate, cdnRate, offload) {
      this.rows.push({ p2p: p2pRate, cdn: cdnRate, off: offload });
      if (this.rows.length > this.n) this.rows.shift();
      this.draw();
    }
    draw() {
      const { ctx, c, rows, n } = this, w = c.width, h = c.height, pad = 24;
      ctx.clearRect(0, 0, w, h);
      const top = Math.max(1, ...rows.map((r) => r.p2p + r.cdn));
      const x = (i) => pad + (w - 2 * pad) * (i + n - rows.length) / (n - 1);
      const y = (v) => h - pad - (h - 2 * pad) * v / top;
      const area = (f, color) => {
        ctx.beginPath(); ctx.moveTo(x(0), y(0));
        rows.forEach((r, i) => ctx.lineTo(x(i), y(f(r))));
        ctx.lineTo(x(rows.length - 1), y(0)); ctx.closePath(); ctx.fillStyle = color; ctx.fill();
      };
      if (rows.length > 1) {
        area((r) => r.p2p + r.cdn, "#f0883e");
        area((r) => r.p2p, "#3fb950");
        ctx.beginPath(); ctx.strokeStyle = "#7cc4ff"; ctx.lineWidth = 2;
        rows.forEach((r, i) => { const yy = h - pad - (h - 2 * pad) * (r.off || 0); i ? ctx.lineTo(x(i), yy) : ctx.moveTo(x(i), yy); });
        ctx.stroke();
      }
      ctx.fillStyle = "#9aa5b1"; ctx.font = "12px sans-serif";
      ctx.fillText(Chart.bytes(top) + "/s", 4, pad - 8);
      ctx.fillText(n + " s", w - pad - 30, h - 6);
    }
    static bytes(b) {
      const u = ["B", "kB", "MB", "GB"]; let i = 0;
      while (b >= 1000 && i < u.length - 1) { b /= 1000; i++; }
      return (i ? b.toFixed(1) : Math.round(b)) + " " + u[i];
    }
  }
  global.Chart = Chart;
})(window);
