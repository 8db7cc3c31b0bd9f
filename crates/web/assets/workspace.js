// The scenario workspace's live what-if (pages/scenarios.rs): each lever's figure moves the scenario, which is
// posted to /api/v1/scenarios/preview?attribution=later; the answer redraws the ledger chart, the ledger table and
// the target check without a page load. The savings by initiative (exact Shapley values, slower) follow from a
// full preview once the figures rest. A response older than the newest one shown is ignored (stale).
'use strict';
(function () {
  const form = document.getElementById('whatif');
  if (!form) return;
  const base = JSON.parse(form.dataset.scenario);
  const csrf = form.dataset.csrf;
  const status = document.getElementById('whatif-status');
  const controls = Array.from(form.querySelectorAll('input[data-field]'));
  let sent = 0; // requests sent
  let shown = 0; // the newest request whose answer is on the page
  let full = 0; // the newest full (attributed) request
  let restTimer = null;
  const hn = (window.hnWhatIf = { redraws: 0, attributed: 0, last: null });

  function pct(x) { return `${Math.round(x * 100)} %`; }
  function label(input) {
    const v = Number(input.value);
    return input.dataset.unit === '%' ? pct(v) : `${v} ${input.dataset.unit}`;
  }
  function scenario() {
    const s = JSON.parse(JSON.stringify(base));
    s.assumptions.engine = 'analytic';
    for (const input of controls) {
      const lever = s.initiative[Number(input.dataset.i)].lever[Number(input.dataset.j)];
      const baseLever = base.initiative[Number(input.dataset.i)].lever[Number(input.dataset.j)];
      const f = input.dataset.field;
      if (input.dataset.how === 'value') lever[f] = Number(input.value);
      else if (input.dataset.how === 'month') { if (/^\d{4}-\d{2}$/.test(input.value)) lever[f] = input.value; }
      else {
        const scaled = {};
        for (const [fy, pounds] of Object.entries(baseLever[f] || {})) scaled[fy] = Math.round(pounds * Number(input.value) * 100) / 100;
        lever[f] = scaled;
      }
    }
    return s;
  }
  function money(pence) {
    if (pence === null || pence === undefined) return '-';
    const m = pence / 1e8;
    return `${m < 0 ? '-' : ''}£${Math.abs(m).toFixed(1)}m`;
  }
  function penny(pence) {
    const sign = pence < 0 ? '-' : '';
    const abs = Math.abs(pence);
    const pounds = Math.floor(abs / 100).toLocaleString('en-GB');
    return `${sign}£${pounds}.${String(abs % 100).padStart(2, '0')}`;
  }
  function setText(id, text) { const el = document.getElementById(id); if (el) el.textContent = text; }

  // The same geometry as pages::scenarios::ledger_chart.
  function redrawChart(result) {
    const svg = document.getElementById('ledger-chart');
    if (!svg) return;
    const W = 640, H = 260, PAD = 56;
    const sides = { unmitigated: result.unmitigated.financial_years, mitigated: result.mitigated.financial_years };
    const pts = {};
    let lo = 0, hi = 0, x0 = Infinity, x1 = -Infinity;
    for (const [k, rows] of Object.entries(sides)) {
      pts[k] = rows.map((r) => [Number(r.financial_year.slice(0, 4)), r.in_year_pence / 1e8]);
      for (const [x, y] of pts[k]) { lo = Math.min(lo, y); hi = Math.max(hi, y); x0 = Math.min(x0, x); x1 = Math.max(x1, x); }
    }
    if (hi - lo < 1) { lo -= 1; hi += 1; }
    const span = Math.max(1, x1 - x0);
    const sx = (x) => PAD + ((x - x0) / span) * (W - 2 * PAD);
    const sy = (y) => PAD + ((hi - y) / (hi - lo)) * (H - 2 * PAD);
    for (const k of Object.keys(pts)) {
      const path = document.getElementById(`ledger-chart-${k}`);
      if (path) path.setAttribute('d', pts[k].map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' '));
    }
    const zero = document.getElementById('ledger-chart-zero');
    if (zero) { zero.setAttribute('y1', sy(0).toFixed(1)); zero.setAttribute('y2', sy(0).toFixed(1)); }
    setText('ledger-chart-hi', hi.toFixed(1));
    setText('ledger-chart-lo', lo.toFixed(1));
    const desc = document.getElementById('ledger-chart-d');
    if (desc) {
      const line = (name, k) => `${name}: ${pts[k].map(([x, y]) => `${x}-${String((x + 1) % 100).padStart(2, '0')} £${y.toFixed(1)}m`).join(', ')}`;
      desc.textContent = `${line('in-year without the plan', 'unmitigated')}. ${line('in-year with the plan', 'mitigated')}. The ledger table below has every figure.`;
    }
  }

  function redrawLedger(result) {
    const body = document.querySelector('#ledger-table tbody');
    if (!body) return;
    const u = result.unmitigated.financial_years, m = result.mitigated.financial_years;
    Array.from(body.rows).forEach((row, i) => {
      if (!u[i] || !m[i]) return;
      const cells = [u[i].expenditure_pence, m[i].expenditure_pence, m[i].initiative_cost_pence, m[i].income_pence,
        u[i].in_year_pence, m[i].in_year_pence, m[i].closing_balance_pence];
      cells.forEach((p, k) => { if (row.cells[k + 1]) row.cells[k + 1].textContent = money(p); });
    });
  }

  function redrawTarget(result) {
    setText('balance-year', result.balance_financial_year || 'not within the forecast');
    setText('balance-year-unmitigated', result.unmitigated.balance_financial_year || 'not within the forecast');
    setText('p-balanced', pct(result.probability_balanced_by_target));
    setText('p-cleared', pct(result.probability_deficit_cleared_by_target));
    setText('target-gap', money(result.target_gap_pence.mean));
    setText('total-saving-summary', penny(result.total_saving_pence));
  }

  function redrawSavings(result) {
    const table = document.getElementById('savings-table');
    if (!table) return;
    const rows = Array.from(table.tBodies[0].rows);
    const pending = result.attribution.method === 'pending';
    result.initiatives.forEach((ini, i) => {
      const row = rows[i];
      if (!row) return;
      const values = [ini.saving_pence, ini.cost_pence, ini.income_pence, ini.net_saving_pence,
        ...(pending ? [] : Object.values(ini.saving_by_financial_year))];
      values.forEach((p, k) => {
        const cell = row.cells[k + 1];
        if (!cell) return;
        if (p === null) { cell.textContent = 'calculating…'; cell.removeAttribute('data-pence'); }
        else { cell.textContent = penny(p); cell.dataset.pence = String(p); }
      });
      if (pending) for (let k = 5; k < row.cells.length; k += 1) { row.cells[k].textContent = 'calculating…'; row.cells[k].removeAttribute('data-pence'); }
    });
    const total = document.getElementById('total-saving');
    if (total) { total.textContent = penny(result.total_saving_pence); total.dataset.pence = String(result.total_saving_pence); }
    table.dataset.attribution = result.attribution.method;
  }

  async function preview(later) {
    const seq = ++sent;
    if (!later) full = seq;
    const response = await fetch(`/api/v1/scenarios/preview${later ? '?attribution=later' : ''}`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': csrf }, body: JSON.stringify(scenario()),
    });
    const answer = await response.json();
    if (seq < shown) return; // stale: a newer answer is already on the page
    if (!response.ok) {
      status.textContent = `Not run: ${(answer.issues || []).join('; ') || answer.error}`;
      shown = seq;
      return;
    }
    if (!later && seq !== full) return; // a newer full preview is on its way
    shown = seq;
    redrawChart(answer); redrawLedger(answer); redrawTarget(answer);
    if (later) { if (seq > full) redrawSavings(answer); }
    else { redrawSavings(answer); hn.attributed += 1; }
    hn.redraws += 1;
    hn.last = seq;
    status.textContent = `Redrawn: first year in balance ${answer.balance_financial_year || 'not within the forecast'}${later ? '; savings by initiative follow' : ''}.`;
    document.dispatchEvent(new CustomEvent('hn:redrawn', { detail: { seq, later } }));
  }

  function moved(event) {
    const input = event.target;
    if (input.type === 'range') {
      const text = label(input);
      input.setAttribute('aria-valuetext', text);
      const out = document.getElementById(`${input.id}-out`);
      if (out) out.textContent = text;
    }
    preview(true).catch((e) => { status.textContent = `Preview failed: ${e}`; });
    clearTimeout(restTimer);
    restTimer = setTimeout(() => preview(false).catch((e) => { status.textContent = `Preview failed: ${e}`; }), 600);
  }
  for (const input of controls) input.addEventListener('input', moved);
  form.addEventListener('submit', () => { document.getElementById('whatif-json').value = JSON.stringify(scenario()); });
})();

// Monte-Carlo on demand (simulation.rs): while a run of this version is going, ask every second how it is and move
// the progress bar (simulations finished of both sides'); when it has finished (or failed), reload the page to show
// it. The words match the server's (`progress_text`).
(function () {
  const section = document.getElementById('simulation');
  if (!section || section.dataset.status !== 'running') return;
  const url = `/api/v1/scenarios/simulation?name=${encodeURIComponent(section.dataset.name)}&version=${section.dataset.version}`;
  const bar = document.getElementById('simulation-progress');
  const text = document.getElementById('simulation-progress-text');
  function show(done, total) {
    if (!bar || !text || !(total > 0)) return;
    bar.max = total;
    bar.value = Math.min(done, total);
    text.textContent = done >= total
      ? `all ${total} simulations done; attributing the savings…`
      : `${done} of ${total} simulations done…`;
  }
  function poll() {
    fetch(url, { credentials: 'same-origin' })
      .then((r) => (r.ok ? r.json() : null))
      .then((s) => {
        if (s && s.status !== 'running') window.location.reload();
        else {
          if (s) show(s.simulations_done, s.simulations_total);
          window.setTimeout(poll, 1000);
        }
      })
      .catch(() => window.setTimeout(poll, 2000));
  }
  window.setTimeout(poll, 500);
})();
