// Opens the p2p-media-loader page (web/e2e/p2pml/page.html) in N headless
// Chromium pages for D seconds; prints, as JSON, each page's counters (bytes
// from peers and HTTP, uploaded, peers, fatal errors, SHA-256 of every
// fragment hls.js loaded) and its video time.
import { launch } from "./chromium.mjs";
import { parseArgs } from "node:util";

const { values: o } = parseArgs({ options: {
  url: { type: "string" }, pages: { type: "string", default: "2" }, seconds: { type: "string", default: "45" },
  stagger: { type: "string", default: "0" }, // seconds between pages; each later page plays two segments further behind live
} });
const browser = await launch();
const logs = [];
try {
  const pages = [];
  for (let i = 0; i < Number(o.pages); i++) {
    const ctx = await browser.newContext({ permissions: ["microphone"] });
    const page = await ctx.newPage();
    page.on("pageerror", (e) => logs.push(`page ${i}: uncaught ${e.message}`));
    await page.goto(o.url + "?sync=" + (3 + 2 * i));
    pages.push(page);
    await new Promise((r) => setTimeout(r, 1000 * Number(o.stagger)));
  }
  await new Promise((r) => setTimeout(r, 1000 * Number(o.seconds)));
  const out = [];
  for (const p of pages) {
    out.push(await p.evaluate(() => Object.assign({ currentTime: document.getElementById("video").currentTime }, window.p2pmlState)));
  }
  console.log(JSON.stringify({ pages: out, logs }));
} finally {
  await browser.close();
}
