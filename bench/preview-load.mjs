// Open-loop load on POST /api/v1/scenarios/preview (bench/preview): RATE requests/s for SECONDS_ seconds, each
// sent on schedule; the body is the stored example in the API's JSON shape (as the scenario page's what-if form
// carries it) with one figure moved per request.
const base = process.env.HN_URL;
const token = process.env.HN_TOKEN;
const rate = Number(process.env.RATE || 50);
const seconds = Number(process.env.SECONDS_ || 10);

// The stored example's name.
async function exampleJson() {
  const list = await (await fetch(`${base}/api/v1/scenarios`, { headers: { authorization: `Bearer ${token}` } })).json();
  return { name: list[0].name };
}

function pct(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)];
}

async function run(label, query, body) {
  const times = [];
  let failed = 0;
  const pending = [];
  const start = performance.now();
  for (let k = 0; k < rate * seconds; k += 1) {
    const due = start + (k * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const b = body(k);
    const t0 = performance.now();
    pending.push(fetch(`${base}/api/v1/scenarios/preview${query}`, {
      method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: b,
    }).then(async (r) => { await r.arrayBuffer(); if (r.status !== 200) failed += 1; times.push(performance.now() - t0); })
      .catch(() => { failed += 1; }));
  }
  await Promise.all(pending);
  const achieved = times.length / ((performance.now() - start) / 1000);
  console.log(`-- ${label}: ${times.length} requests at ${rate}/s offered (${achieved.toFixed(1)}/s answered), ${failed} not 200; ` +
    `p50 ${pct(times, 0.5).toFixed(1)} ms, p95 ${pct(times, 0.95).toFixed(1)} ms, p99 ${pct(times, 0.99).toFixed(1)} ms, max ${Math.max(...times).toFixed(1)} ms`);
}

const scenario = JSON.parse(process.env.HN_JSON || 'null') || await (async () => {
  // The server's own JSON shape of the stored example: read it from the scenario page's what-if form.
  const { name } = await exampleJson();
  const html = await (await fetch(`${base}/scenarios?name=${encodeURIComponent(name)}`, { headers: { authorization: `Bearer ${token}` } })).text();
  const m = html.match(/data-scenario="([^"]*)"/);
  const text = m[1].replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
  return JSON.parse(text);
})();
scenario.assumptions.engine = 'analytic';
// Each request moves the early-years joiner change (initiative a) to another value, like a slider.
const moved = (k) => {
  const s = JSON.parse(JSON.stringify(scenario));
  s.initiative[0].lever[0].change = -0.3 + (k % 30) * 0.01;
  return JSON.stringify(s);
};
// Warm the fitted model.
await (await fetch(`${base}/api/v1/scenarios/preview?attribution=later`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: moved(0) })).arrayBuffer();
// PHASE: `warm` (the warm-up only), `later` (the slider path only), `full` (the full contract only), else both.
const phase = process.env.PHASE || 'both';
if (phase !== 'full' && phase !== 'warm') await run('?attribution=later (the slider path)', '?attribution=later', moved);
if (phase !== 'later' && phase !== 'warm') await run('full contract (exact Shapley attribution)', '', moved);
