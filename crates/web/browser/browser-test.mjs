// Browser tests of the highneeds dashboard (issue #10): real Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core; no browser is ever downloaded) against a running `highneeds serve`.
//
// Environment: HN_URL (the server), HN_USERS ("role:username:password" separated by spaces, one per role),
// HN_ARTEFACTS (folder for screenshots), CHROMIUM (default /usr/bin/chromium).
// Checks: each role signs in through the form and opens every page its role allows (screenshot of each);
// every page passes axe-core with no serious or critical violation; a chart's bar drills down to its table;
// a viewer cannot reach person-level or officer/admin pages; the public page withholds small numbers;
// keyboard: the skip link is the first stop and moves focus to the content.

import { chromium } from 'playwright-core';
import { readFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const base = process.env.HN_URL;
const artefacts = process.env.HN_ARTEFACTS || 'browser-artefacts';
mkdirSync(artefacts, { recursive: true });
const users = Object.fromEntries(
  (process.env.HN_USERS || '').split(' ').filter(Boolean).map((u) => {
    const [role, name, password] = u.split(':');
    return [role, { name, password }];
  }),
);

const ORDER = ['viewer', 'analyst', 'officer', 'admin'];
const PAGES = [
  ['/', 'viewer'], ['/caseload', 'viewer'], ['/caseload?by=need', 'viewer'], ['/caseload?by=age_group', 'viewer'],
  ['/caseload?by=ncy', 'viewer'], ['/accuracy', 'viewer'], ['/diagnose?la=E06000037', 'viewer'],
  ['/benchmark?la=E06000037', 'viewer'], ['/data', 'viewer'], ['/caseload/records', 'analyst'], ['/admin', 'admin'],
];
const allowed = (role, least) => ORDER.indexOf(role) >= ORDER.indexOf(least);

let failures = 0;
let checks = 0;
function check(ok, what) {
  checks += 1;
  if (!ok) {
    failures += 1;
    console.log(`FAIL ${what}`);
  }
}

async function axe(page, label) {
  await page.evaluate(axeSource); // through the DevTools protocol: the page's CSP stays in force
  const result = await page.evaluate(async () => window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  for (const v of bad) console.log(`  axe ${label}: ${v.impact} ${v.id}: ${v.help} (${v.nodes.length} nodes)`);
  check(bad.length === 0, `axe: ${label} has ${bad.length} serious/critical violation(s)`);
}

function shot(page, name) {
  return page.screenshot({ path: `${artefacts}/${name.replace(/[^a-z0-9]+/gi, '_')}.png`, fullPage: true });
}

async function signIn(page, role) {
  const u = users[role];
  await page.goto(`${base}/login`);
  await page.fill('#username', u.name);
  await page.fill('#password', u.password);
  await Promise.all([page.waitForURL(`${base}/`), page.click('button[type=submit]')]);
  check(page.url() === `${base}/`, `${role} signs in and lands on the overview`);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run'],
});
try {
  // Anonymous: sign-in is required; the public page is open and withholds small numbers.
  {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${base}/`);
    check(page.url() === `${base}/login`, 'anonymous / redirects to /login');
    await shot(page, 'login');
    await axe(page, '/login');
    // Keyboard: the first Tab stop is the skip link; following it puts focus on the main content.
    await page.keyboard.press('Tab');
    check(await page.evaluate(() => document.activeElement?.className === 'skip'), 'first Tab stop is the skip link');
    await page.keyboard.press('Enter');
    check(await page.evaluate(() => document.activeElement?.id === 'main'), 'skip link moves focus to main');
    await page.goto(`${base}/public`);
    await shot(page, 'public');
    await axe(page, '/public');
    const cells = await page.$$eval('table td', (tds) => tds.map((td) => td.textContent.trim()));
    const small = cells.filter((c) => /^[1-4]$/.test(c));
    check(small.length === 0, `public page shows no count from 1 to 4 (found ${small.join(',')})`);
    const api = await (await page.request.get(`${base}/api/v1/public/caseload`)).json();
    const shown = ['by_setting', 'by_need', 'by_age_group'].flatMap((k) => api[k].cells.map((c) => c.plans));
    check(shown.every((n) => n === null || n === 0 || n >= 5), 'public API shows no count from 1 to 4');
    check(shown.some((n) => n === null) === cells.includes('[c]'), 'withheld cells are marked [c]');
    await context.close();
  }
  for (const role of ORDER) {
    const context = await browser.newContext();
    const page = await context.newPage();
    await signIn(page, role);
    for (const [path, least] of PAGES) {
      const response = await page.goto(`${base}${path}`);
      if (allowed(role, least)) {
        check(response.status() === 200, `${role} opens ${path} (${response.status()})`);
        await shot(page, `${role}${path}`);
        await axe(page, `${role} ${path}`);
      } else {
        check(response.status() === 403, `${role} is refused ${path} (${response.status()})`);
      }
    }
    if (role === 'viewer') {
      // No person-level data by any route a viewer can reach: records, their CSV and their API.
      // Requests from inside the page, so they carry the browser's own session cookie.
      const status = (path, init) => page.evaluate(
        async ([url, opts]) => (await fetch(url, { redirect: 'manual', ...opts })).status, [`${base}${path}`, init ?? {}]);
      for (const path of ['/caseload/records', '/export/records.csv', '/api/v1/records']) {
        const s = await status(path);
        check(s === 403, `viewer gets 403 for ${path} (${s})`);
      }
      await page.goto(`${base}/data`);
      check((await page.$('form[action^="/data/upload"]')) === null, 'viewer sees no upload form');
      const upload = await status('/data/upload', { method: 'POST', body: 'kind=plans', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      check(upload === 403, `viewer cannot post an upload (${upload})`);
    }
    if (role === 'analyst') {
      // Drill-down: a bar of the chart links to its table.
      await page.goto(`${base}/caseload?by=setting`);
      const bar = page.locator('#caseload-chart a rect.bar').first();
      await bar.click();
      check(/census=\d{4}#caseload-table$/.test(page.url()), `a chart bar drills down to the table (${page.url()})`);
      check(await page.locator('#caseload-table').isVisible(), 'the drilled-down table is visible');
      await shot(page, 'analyst_drill_down');
      // And from a point of the overview's line chart to its year's row.
      await page.goto(`${base}/`);
      await page.locator('#plans-chart a circle').first().click();
      check(/#plans-table-\d{4}$/.test(page.url()), `a chart point drills down to its table row (${page.url()})`);
    }
    await context.close();
  }
} finally {
  await browser.close();
}
console.log(`${checks - failures}/${checks} browser checks hold; screenshots in ${artefacts}`);
process.exit(failures === 0 ? 0 : 1);
