// The nsqadmin web UI in headless Chromium, served by NSQADMIN_BIN (our binary embeds web/),
// on a live nsqlookupd + 2 nsqd with real traffic: every page, numbers checked against nsqd's
// /stats, admin actions through the UI checked on nsqd and nsqlookupd, upstream failures shown
// as readable messages. Saves screenshots of the main pages to docs/screenshots/.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { BINS, lookupd, nsqd, REPO, sleep, startCluster, waitFor } from './lib/cluster.mjs';
import { launch, newPage } from './lib/browser.mjs';
import { startTraffic } from './lib/traffic.mjs';
import { OURS, startAdmin } from './lib/admin.mjs';

const SHOTS = path.join(REPO, 'docs', 'screenshots');
let cluster;
let traffic;
let ctx;
let page;

const num = (s) => Number(String(s).replace(/[,\s]/g, ''));
const cell = (row, field) => page.locator(`${row} [data-field="${field}"]`).first();

async function shot(name) {
  if (process.env.UI_SCREENSHOTS === '0') return;
  await sleep(300);
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

/** Polls until the cell shows `expected` (numbers move with traffic and polling). */
async function cellEquals(row, field, expected) {
  await waitFor(async () => num(await cell(row, field).innerText({ timeout: 2000 })) === expected,
    { timeout: 10000, what: `${row} ${field} == ${expected}` });
}

async function confirm() {
  const ok = page.getByTestId('confirm-ok');
  await ok.waitFor();
  await ok.click();
}

before(async () => {
  cluster = await startCluster({ uiServer: 'nsqadmin' });
  traffic = await startTraffic(cluster);
  const [a, b] = cluster.nsqd;
  for (const [n, count] of [[a, 7], [b, 5]]) {
    await nsqd.createTopic(n.http, 'ui-stable');
    await nsqd.createChannel(n.http, 'ui-stable', 'c');
    await nsqd.mpub(n.http, 'ui-stable', Array.from({ length: count }, (_, i) => `m${i}`));
  }
  await waitFor(async () => (await lookupd.lookup(cluster.lookupd.http, 'ui-stable')).producers.length === 2,
    { what: 'ui-stable registered' });
  ctx = await launch();
  page = await newPage(ctx, { refresh: 2 });
});

after(async () => {
  await ctx?.close();
  await traffic?.stop();
  await cluster?.stop();
});

describe('pages show what nsqd reports', () => {
  test('streams page: every topic, counts equal to nsqd /stats', async () => {
    const t0 = Date.now();
    await page.goto(cluster.url('/'));
    await page.locator('tr[data-topic="ui-stable"] [data-field="message_count"]').waitFor();
    const expected = new Set();
    for (const n of cluster.nsqd) for (const t of (await nsqd.stats(n.http)).topics) expected.add(t.topic_name);
    await waitFor(async () => {
      const shown = await page.locator('tr[data-topic]').evaluateAll((rows) => rows.map((r) => r.dataset.topic));
      return [...expected].every((t) => shown.includes(t));
    }, { what: 'all topics listed' });
    await cellEquals('tr[data-topic="ui-stable"]', 'message_count', 12);
    await cellEquals('tr[data-topic="ui-stable"]', 'channel_depth', 12);
    await cellEquals('tr[data-topic="ui-stable"]', 'nodes', 2);
    assert.deepEqual(page.pageErrors, []);
    await sleep(4500); // a few samples for the rate column and sparklines
    await shot('topics');
    console.log(`# streams page ready in ${Date.now() - t0} ms`);
  });

  test('topic page: per-node rows and the total match nsqd', async () => {
    await page.goto(cluster.url('/topics/ui-stable'));
    for (const n of cluster.nsqd) {
      const t = await nsqd.topic(n.http, 'ui-stable');
      await cellEquals(`[data-testid="topic-nodes"] tr[data-node="${n.http}"]`, 'message_count', t.message_count);
    }
    await cellEquals('[data-testid="topic-nodes"] tr[data-node="*"]', 'message_count', 12);
    await cellEquals('[data-testid="topic-channels"] tr[data-channel="c"]', 'depth', 12);
    await page.goto(cluster.url('/topics/orders'));
    await page.locator('[data-testid="topic-channels"] tr[data-channel="fraud-check"]').waitFor();
    await sleep(4000);
    await shot('topic');
  });

  test('channel page: clients, in-flight and deferred from nsqd', async () => {
    await page.goto(cluster.url('/topics/orders/fraud-check'));
    await page.locator('[data-testid="channel-clients"] tr[data-client-id="fraud-worker-1"]').waitFor();
    await page.locator('[data-testid="channel-clients"] tr[data-client-id="fraud-worker-2"]').waitFor();
    const ch = await nsqd.channel(cluster.nsqd[0].http, 'orders', 'fraud-check');
    assert.equal(ch.in_flight_count, 5, 'the holding consumer keeps RDY 5 in flight');
    await cellEquals(`[data-testid="channel-nodes"] tr[data-node="${cluster.nsqd[0].http}"]`, 'in_flight_count', 5);
    await sleep(3000);
    await shot('channel');
    assert.deepEqual(page.pageErrors, []);
  });

  test('nodes page: both nsqd with version and ports from /info', async () => {
    await page.goto(cluster.url('/nodes'));
    for (const n of cluster.nsqd) {
      const info = await (await fetch(`http://${n.http}/info`)).json();
      const row = `[data-testid="nodes-table"] tr[data-node="${n.http}"]`;
      await page.locator(row).waitFor();
      assert.equal((await cell(row, 'version').innerText()).trim(), info.version);
      assert.equal(num(await cell(row, 'http_port').innerText()), info.http_port);
      assert.equal(num(await cell(row, 'tcp_port').innerText()), info.tcp_port);
    }
    await sleep(3000);
    await shot('nodes');
  });

  test('node page: the node\'s topics', async () => {
    const n = cluster.nsqd[0];
    await page.goto(cluster.url(`/nodes/${n.http}`));
    const want = (await nsqd.stats(n.http)).topics.map((t) => t.topic_name).sort();
    await waitFor(async () => {
      const shown = await page.locator('[data-testid="node-topics"] tbody[data-topic]').evaluateAll((r) => r.map((x) => x.dataset.topic));
      return want.every((t) => shown.includes(t));
    }, { what: 'node topics' });
    await sleep(2000);
    await shot('node');
  });

  test('counter page: messages processed', async () => {
    await page.goto(cluster.url('/counter'));
    await waitFor(async () => num(await page.getByTestId('counter-value').innerText()) > 0, { what: 'counter > 0' });
    await sleep(3000);
    await shot('counter');
  });
});

describe('admin actions through the UI', () => {
  test('pause and unpause a channel; cancel leaves it alone', async () => {
    const [a, b] = cluster.nsqd;
    await page.goto(cluster.url('/topics/ui-stable/c'));
    await page.locator('[data-testid="channel-actions"] [data-action="pause"]').click();
    await page.getByTestId('confirm-cancel').click();
    await sleep(300);
    assert.equal((await nsqd.channel(a.http, 'ui-stable', 'c')).paused, false, 'cancel does nothing');
    await page.locator('[data-testid="channel-actions"] [data-action="pause"]').click();
    await confirm();
    await waitFor(async () => (await nsqd.channel(a.http, 'ui-stable', 'c')).paused
      && (await nsqd.channel(b.http, 'ui-stable', 'c')).paused, { what: 'paused on both nsqd' });
    await page.locator('[data-testid="channel-actions"] [data-action="unpause"]').click();
    await confirm();
    await waitFor(async () => !(await nsqd.channel(a.http, 'ui-stable', 'c')).paused, { what: 'unpaused' });
  });

  test('empty a channel, then delete it', async () => {
    await page.goto(cluster.url('/topics/ui-stable/c'));
    await page.locator('[data-testid="channel-actions"] [data-action="empty"]').click();
    await confirm();
    await waitFor(async () => {
      for (const n of cluster.nsqd) if ((await nsqd.channel(n.http, 'ui-stable', 'c')).depth !== 0) return false;
      return true;
    }, { what: 'emptied' });
    await page.locator('[data-testid="channel-actions"] [data-action="delete"]').click();
    await confirm();
    await waitFor(async () => (await nsqd.channel(cluster.nsqd[0].http, 'ui-stable', 'c')) === null
      && (await nsqd.channel(cluster.nsqd[1].http, 'ui-stable', 'c')) === null, { what: 'channel deleted' });
  });

  test('pause a topic, tombstone it on one node, delete it', async () => {
    const [a, b] = cluster.nsqd;
    await page.goto(cluster.url('/topics/ui-stable'));
    await page.locator('[data-testid="topic-actions"] [data-action="pause"]').click();
    await confirm();
    await waitFor(async () => (await nsqd.topic(a.http, 'ui-stable')).paused && (await nsqd.topic(b.http, 'ui-stable')).paused,
      { what: 'topic paused' });
    await page.locator(`button[data-action="tombstone"][data-node="${a.http}"]`).click();
    await confirm();
    await waitFor(async () => (await nsqd.topic(a.http, 'ui-stable')) === null, { what: 'deleted on node a' });
    assert.notEqual(await nsqd.topic(b.http, 'ui-stable'), null, 'still on node b');
    await page.locator('[data-testid="topic-actions"] [data-action="delete"]').click();
    await confirm();
    await waitFor(async () => (await nsqd.topic(b.http, 'ui-stable')) === null, { what: 'deleted on node b' });
    await waitFor(async () => !(await lookupd.topics(cluster.lookupd.http)).includes('ui-stable'), { what: 'gone from lookupd' });
  });

  test('lookup page: create a topic and channel; invalid names are refused with a message', async () => {
    await page.goto(cluster.url('/lookup'));
    const form = page.getByTestId('create-form');
    await form.locator('input[name="topic"]').fill('made-in-ui');
    await form.locator('input[name="channel"]').fill('first');
    await form.locator('button[type="submit"], button:has-text("Create")').first().click();
    await waitFor(async () => (await lookupd.topics(cluster.lookupd.http)).includes('made-in-ui'), { what: 'created in lookupd' });
    assert.deepEqual(await lookupd.channels(cluster.lookupd.http, 'made-in-ui'), ['first']);
    await page.getByTestId('inactive-tree').locator('text=made-in-ui').first().waitFor();
    await shot('lookup');
    await form.locator('input[name="topic"]').fill('bad name!');
    await form.locator('input[name="channel"]').fill('');
    await form.locator('button[type="submit"], button:has-text("Create")').first().click();
    await waitFor(async () => {
      const t = await page.locator('[data-testid="form-error"], [data-testid="error-banner"], .toast').allInnerTexts();
      return t.join(' ').match(/Topic names are|INVALID_TOPIC/);
    }, { what: 'form error shown' });
    assert.ok(!(await lookupd.topics(cluster.lookupd.http)).includes('bad name!'));
  });
});

describe('errors are shown, nothing hangs', () => {
  test('a hung nsqd (SIGSTOP, still registered): the topic page warns after one timeout and names it', async () => {
    const b = cluster.nsqd[1];
    b.proc.child.kill('SIGSTOP');
    try {
      const t0 = Date.now();
      await page.goto(cluster.url('/topics/orders'));
      const banner = page.getByTestId('warning-banner').first();
      await banner.waitFor({ timeout: 14000 });
      assert.match(await banner.innerText(), new RegExp(b.http.replace(/\./g, '\\.')));
      // the live node's numbers are still there
      await page.locator(`[data-testid="topic-nodes"] tr[data-node="${cluster.nsqd[0].http}"]`).waitFor();
      console.log(`# warning shown after ${Date.now() - t0} ms (request timeout 5s)`);
      await shot('error-node-down');
    } finally {
      b.proc.child.kill('SIGCONT');
    }
  });

  test('every lookupd down: readable UPSTREAM_ERROR, no endless spinner', async () => {
    const dead = await startAdmin(OURS, ['-lookupd-http-address=127.0.0.1:1'], cluster.dir);
    try {
      await page.goto(`${dead.root}/`);
      const banner = page.getByTestId('error-banner').first();
      await banner.waitFor({ timeout: 10000 });
      assert.match(await banner.innerText(), /UPSTREAM_ERROR|failed to query any nsqlookupd/);
      await page.goto(`${dead.root}/topics/whatever`);
      await page.getByTestId('error-banner').first().waitFor({ timeout: 10000 });
    } finally {
      await dead.stop();
    }
  });

  test('an unknown topic page says so', async () => {
    await page.goto(cluster.url('/topics/no-such-topic-here'));
    const banner = page.locator('[data-testid="error-banner"], .notice, .empty').first();
    await banner.waitFor({ timeout: 10000 });
    assert.deepEqual(page.pageErrors, []);
  });
});

describe('ACL and base path in the browser', () => {
  test('non-admins see no action buttons; the ACL header user does', async () => {
    const acl = await startAdmin(OURS, [`-lookupd-http-address=${cluster.lookupd.http}`, '-admin-user=alice'], cluster.dir);
    const p2 = await newPage(ctx, { refresh: 0 });
    try {
      await p2.goto(`${acl.root}/topics/orders`);
      await p2.locator('[data-testid="topic-nodes"]').waitFor();
      assert.equal(await p2.locator('[data-testid="topic-actions"] button').count(), 0);
      assert.equal(await p2.locator('button[data-action="tombstone"]').count(), 0);
      await p2.setExtraHTTPHeaders({ 'X-Forwarded-User': 'alice' });
      await p2.goto(`${acl.root}/topics/orders`);
      await p2.locator('[data-testid="topic-actions"] [data-action="delete"]').waitFor();
    } finally {
      await p2.close();
      await acl.stop();
    }
  });

  test('-base-path: pages, links and API calls stay under the prefix', async () => {
    const bp = await startAdmin(OURS, [`-lookupd-http-address=${cluster.lookupd.http}`, '-base-path=/ops/nsq'], cluster.dir);
    const p2 = await newPage(ctx, { refresh: 0 });
    const outside = [];
    p2.on('request', (r) => { if (!new URL(r.url()).pathname.startsWith('/ops/nsq/')) outside.push(r.url()); });
    try {
      await p2.goto(`${bp.root}/ops/nsq/`);
      await p2.locator('tr[data-topic="orders"] a').first().click();
      await p2.waitForURL(/\/ops\/nsq\/topics\/orders$/);
      await p2.locator('[data-testid="topic-channels"] tr[data-channel="fraud-check"]').waitFor();
      await p2.reload();
      await p2.locator('[data-testid="topic-channels"] tr[data-channel="fraud-check"]').waitFor();
      assert.deepEqual(outside.filter((u) => !u.endsWith('/ops/nsq')), []);
      assert.deepEqual(p2.pageErrors, []);
    } finally {
      await p2.close();
      await bp.stop();
    }
  });
});


describe('Graphite history charts (-graphite-url)', () => {
  // A tiny Graphite: records every /render request and answers a 1x1 PNG.
  const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');
  let graphite;
  const renders = [];
  before(async () => {
    graphite = http.createServer((req, res) => {
      const u = new URL(req.url, 'http://x');
      if (u.pathname === '/render') renders.push(u.searchParams);
      res.writeHead(200, { 'Content-Type': 'image/png' });
      res.end(PNG);
    });
    await new Promise((r) => graphite.listen(0, '127.0.0.1', r));
    // A topic of its own: earlier tests delete and tombstone theirs.
    await nsqd.createTopic(cluster.nsqd[0].http, 'ui-graphite');
    await nsqd.createChannel(cluster.nsqd[0].http, 'ui-graphite', 'c');
    await waitFor(async () => (await lookupd.lookup(cluster.lookupd.http, 'ui-graphite')).producers.length === 1,
      { what: 'ui-graphite registered' });
  });
  after(() => new Promise((r) => graphite.close(r)));

  test('topic and channel pages draw the reference\'s Graphite series; none without -graphite-url', async () => {
    const url = `http://127.0.0.1:${graphite.address().port}`;
    const admin = await startAdmin(OURS, [`-lookupd-http-address=${cluster.lookupd.http}`, `-graphite-url=${url}`,
      '-statsd-prefix=nsq.%s', '-statsd-interval=10s'], cluster.dir);
    const p2 = await newPage(ctx, { refresh: 0 });
    try {
      await p2.goto(`${admin.root}/topics/ui-graphite`);
      const imgs = p2.locator('[data-testid="graphite-charts"] img');
      await imgs.first().waitFor();
      await waitFor(async () => renders.length >= 2, { what: 'topic charts requested from Graphite' });
      const targets = () => renders.map((q) => q.get('target'));
      assert.ok(targets().includes('summarize(sumSeries(stats.gauges.nsq.*.topic.ui-graphite.depth),"10sec","avg")'), targets().join('\n'));
      assert.ok(targets().includes('summarize(scale(sumSeries(stats.counters.nsq.*.topic.ui-graphite.message_count.count),0.1),"10sec","avg")'), targets().join('\n'));
      assert.equal(renders[0].get('from'), '-2h');
      await waitFor(async () => p2.evaluate(() => [...document.querySelectorAll('[data-testid="graphite-charts"] img')]
        .every((i) => i.complete && i.naturalWidth === 1)), { what: 'charts drawn' });

      await p2.goto(`${admin.root}/topics/ui-graphite/c`);
      await imgs.first().waitFor();
      await waitFor(async () => targets().some((t) => t.includes('topic.ui-graphite.channel.c.in_flight_count')),
        { what: 'channel charts requested from Graphite' });
      assert.equal(await imgs.count(), 4);
      // Our own sampled sparklines stay beside them.
      assert.ok(await p2.locator('[data-testid="card-depth"] svg').count() > 0);
      assert.deepEqual(p2.pageErrors, []);

      await p2.goto(cluster.url('/topics/ui-graphite'));
      await p2.locator('[data-testid="topic-nodes"]').waitFor();
      assert.equal(await p2.locator('[data-testid="graphite-charts"]').count(), 0);
    } finally {
      await p2.close();
      await admin.stop();
    }
  });
});

describe('nsqd -max-bytes-per-topic (ours)', () => {
  test('the topic page shows the disk use against the limit and "disk full"', async (t) => {
    const help = spawnSync(BINS.nsqd, ['-h'], { encoding: 'utf8' });
    if (!`${help.stdout}${help.stderr}`.includes('-max-bytes-per-topic')) {
      return t.skip('the nsqd under test has no -max-bytes-per-topic');
    }
    const limited = await startCluster({ uiServer: 'nsqadmin', nsqdCount: 1, e2e: '', nsqdMode: true,
      nsqdArgs: ['-max-bytes-per-topic=65536', '-mem-queue-size=0'] });
    const p2 = await newPage(ctx, { refresh: 0 });
    try {
      const n = limited.nsqd[0];
      await nsqd.createTopic(n.http, 'ui-full');
      await nsqd.createChannel(n.http, 'ui-full', 'c');
      await nsqd.mpub(n.http, 'ui-full', Array.from({ length: 70 }, (_, i) => `${i}`.padEnd(1000, 'x')));
      await assert.rejects(nsqd.pub(n.http, 'ui-full', 'one more'), (e) => e.status === 507);
      const { disk_bytes: bytes } = await nsqd.topic(n.http, 'ui-full');
      await p2.goto(limited.url('/topics/ui-full'));
      const box = p2.getByTestId('disk-limit');
      await box.waitFor();
      const text = await box.innerText();
      assert.ok(text.includes(`Disk: ${bytes.toLocaleString('en-US')} of 65,536 bytes`), text);
      assert.ok(text.includes('disk full') && text.includes('1 publishes refused'), text);
    } finally {
      await p2.close();
      await limited.stop();
    }
  });
});
