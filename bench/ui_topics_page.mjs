#!/usr/bin/env node
// How fast the nsqadmin Streams page is with many topics: starts nsqlookupd + 2 nsqd, creates
// TOPICS topics x CHANNELS channels on each nsqd, then loads the page in headless Chromium and
// prints the time until the topic list shows and until every row has its numbers, plus the
// /api calls the page makes, for our nsqadmin (NSQADMIN_BIN) and the reference
// (NSQADMIN_REF_BIN; its API behind the same UI through web/dev-server.mjs).
//   node bench/ui_topics_page.mjs            (needs tests/ui/setup.sh once)
// Env: TOPICS (1000), CHANNELS (10), RUNS (3), NSQD_BIN, NSQLOOKUPD_BIN.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const lib = (m) => import(path.join(HERE, '..', 'tests', 'ui', 'lib', m));
const { startCluster, startDevServer, waitFor } = await lib('cluster.mjs');
const { launch, newPage } = await lib('browser.mjs');
const { call, OURS, REF, startAdmin } = await lib('admin.mjs');

const TOPICS = Number(process.env.TOPICS || 1000);
const CHANNELS = Number(process.env.CHANNELS || 10);
const RUNS = Number(process.env.RUNS || 3);

async function pool(items, n, fn) {
  let i = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (i < items.length) {
      const k = i++;
      await fn(items[k]);
    }
  }));
}

const cluster = await startCluster({ uiServer: 'nsqadmin', e2e: null });
try {
  const t0 = Date.now();
  const jobs = [];
  for (const n of cluster.nsqd) {
    for (let t = 0; t < TOPICS; t++) {
      const topic = `bench-topic-${String(t).padStart(4, '0')}`;
      jobs.push(`http://${n.http}/topic/create?topic=${topic}`);
      for (let c = 0; c < CHANNELS; c++) jobs.push(`http://${n.http}/channel/create?topic=${topic}&channel=ch-${c}`);
    }
  }
  // topics before their channels (the order of `jobs`), 16 requests at a time
  await pool(jobs, 16, (u) => fetch(u, { method: 'POST' }).then((r) => r.text()));
  await waitFor(async () => (await call(`http://${cluster.lookupd.http}`, '/topics')).json.topics.length >= TOPICS,
    { timeout: 30000, what: 'lookupd knows every topic' });
  console.log(`setup: ${TOPICS} topics x ${CHANNELS} channels on ${cluster.nsqd.length} nsqd in ${Date.now() - t0} ms`);

  const ref = await startAdmin(REF, [`-lookupd-http-address=${cluster.lookupd.http}`], cluster.dir);
  const refUi = await startDevServer({ upstream: ref.root, dir: cluster.dir });
  const targets = [['ours', cluster.admin.root, cluster.uiRoot], ['reference API', ref.root, refUi.root]];

  for (const [name, api] of targets) {
    for (const p of ['/api/topics', '/api/nodes', `/api/nodes/${cluster.nsqd[0].http}`, '/api/topics/bench-topic-0000']) {
      const ms = [];
      let bytes = 0;
      for (let i = 0; i < RUNS; i++) {
        const r = await call(api, p, { timeout: 60000 });
        ms.push(r.ms);
        bytes = r.text.length;
      }
      console.log(`${name.padEnd(14)} GET ${p.padEnd(40)} ${String(Math.min(...ms)).padStart(5)} ms best of ${RUNS} (${bytes} bytes)`);
    }
  }

  const ctx = await launch();
  for (const [name, , ui] of targets) {
    for (let i = 0; i < RUNS; i++) {
      const page = await newPage(ctx, { refresh: 0 });
      const start = Date.now();
      await page.goto(ui + '/');
      await page.locator('tr[data-topic="bench-topic-0000"]').waitFor({ timeout: 60000 });
      const listed = Date.now() - start;
      await waitFor(async () => (await page.locator('tr[data-topic="bench-topic-0000"] [data-field="channels"]').count()) > 0
        && (await page.locator('tr[data-topic="bench-topic-0000"] [data-field="channels"]').innerText()) === String(CHANNELS),
      { timeout: 60000, interval: 20, what: 'numbers' });
      const full = Date.now() - start;
      // scrolling to the end renders the last window of rows
      const s0 = Date.now();
      await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
      const last = `bench-topic-${String(TOPICS - 1).padStart(4, '0')}`;
      await page.locator(`tr[data-topic="${last}"] [data-field="channels"]`).waitFor({ timeout: 10000 });
      const scroll = Date.now() - s0;
      const rows = await page.locator('tr[data-topic]').count();
      console.log(`${name.padEnd(14)} Streams page run ${i + 1}: list ${listed} ms, all numbers ${full} ms, scroll to end ${scroll} ms (${rows} rows in the DOM)`);
      await page.close();
    }
  }
  await ctx.close();
  await refUi.stop();
  await ref.stop();
} finally {
  await cluster.stop();
}
