// nsqadmin /api: ours (NSQADMIN_BIN) against the reference (NSQADMIN_REF_BIN), both pointed at
// the same live nsqlookupd + 2 nsqd with traffic. Same status codes, same error messages, the
// same JSON schema (every object's keys in order) and the same numbers where they are stable;
// admin actions must have the same effect on nsqd and nsqlookupd.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { lookupd, nsqd, sleep, startCluster, waitFor } from './lib/cluster.mjs';
import { call, keySets, normMessage, OURS, REF, startAdmin } from './lib/admin.mjs';
import { startTraffic } from './lib/traffic.mjs';

let cluster;
let ours;
let ref;
let traffic;

before(async () => {
  cluster = await startCluster({ uiServer: 'nsqadmin' });
  const l = [`-lookupd-http-address=${cluster.lookupd.http}`];
  ours = await startAdmin(OURS, l, cluster.dir);
  ref = await startAdmin(REF, l, cluster.dir);
  traffic = await startTraffic(cluster);
  // a topic nobody consumes: its numbers do not move between the two requests
  for (const n of cluster.nsqd) {
    await nsqd.createTopic(n.http, 'stable');
    await nsqd.createChannel(n.http, 'stable', 'c');
    await nsqd.mpub(n.http, 'stable', ['a', 'b', 'c']);
  }
  await waitFor(async () => (await lookupd.lookup(cluster.lookupd.http, 'stable')).producers.length === 2,
    { what: 'stable registered' });
});

after(async () => {
  await traffic?.stop?.();
  await ours?.stop();
  await ref?.stop();
  await cluster?.stop();
});

async function both(p, opts) {
  const [a, b] = await Promise.all([call(ours.root, p, opts), call(ref.root, p, opts)]);
  return { ours: a, ref: b };
}

function sameAnswer(p, r, { values = false } = {}) {
  assert.equal(r.ours.status, r.ref.status, `${p}: status ours ${r.ours.status} ref ${r.ref.status}\nours: ${r.ours.text.slice(0, 300)}\nref: ${r.ref.text.slice(0, 300)}`);
  if (r.ref.json === undefined) {
    assert.equal(r.ours.text, r.ref.text, `${p}: body`);
    return;
  }
  assert.ok(r.ours.json !== undefined, `${p}: ours is not JSON: ${r.ours.text.slice(0, 200)}`);
  assert.deepEqual([...keySets(r.ours.json)].sort(), [...keySets(r.ref.json)].sort(), `${p}: JSON schema`);
  if (r.ref.json && typeof r.ref.json === 'object' && 'message' in r.ref.json) {
    assert.equal(normMessage(r.ours.json.message), normMessage(r.ref.json.message), `${p}: message`);
  }
  if (values) assert.deepEqual(r.ours.json, r.ref.json, `${p}: values`);
}

describe('reads', () => {
  const paths = [
    '/api/topics', '/api/topics?inactive=true', '/api/topics/orders', '/api/topics/orders/archive',
    '/api/topics/clicks', '/api/topics/clicks/warehouse', '/api/nodes', '/api/counter',
    '/api/topics/no-such-topic', '/api/topics/no-such-topic/c', '/api/topics/stable/no-such-channel',
    '/api/nodes/127.0.0.1:1', '/api/graphite', '/api/graphite?metric=rate', '/api/graphite?metric=x',
    '/ping', '/config/nsqlookupd_http_addresses', '/config/nsqd_http_addresses', '/config/admin_users',
    '/config/log_level', '/config/no_such_option', '/api/topics/orders/archive/extra', '/api/nope',
  ];
  for (const p of paths) test(`GET ${p}`, async () => sameAnswer(p, await both(p)));

  test('GET /api/nodes/:node', async () => {
    const p = `/api/nodes/${cluster.nsqd[0].http}`;
    sameAnswer(p, await both(p));
  });

  test('stable topic and channel: equal totals, and equal to nsqd /stats', async () => {
    const t = await both('/api/topics/stable');
    sameAnswer('/api/topics/stable', t);
    const c = await both('/api/topics/stable/c');
    sameAnswer('/api/topics/stable/c', c);
    let depth = 0;
    let msgs = 0;
    for (const n of cluster.nsqd) {
      const ch = await nsqd.channel(n.http, 'stable', 'c');
      depth += ch.depth;
      msgs += ch.message_count;
    }
    for (const r of [t.ours.json, t.ref.json]) {
      assert.equal(r.node, '*');
      assert.equal(r.message_count, 6);
      assert.equal(r.nodes.length, 2);
      assert.equal(r.channels.length, 1);
    }
    for (const r of [c.ours.json, c.ref.json]) {
      assert.equal(r.depth, depth);
      assert.equal(r.message_count, msgs);
      assert.equal(r.nodes.length, 2);
      assert.deepEqual(r.nodes.map((n) => n.node).sort(), cluster.nsqd.map((n) => n.http).sort());
    }
  });

  test('channel with clients: client objects carry the reference fields', async () => {
    const p = '/api/topics/orders/fraud-check';
    await waitFor(async () => ((await call(ours.root, p)).json.clients || []).length === 2, { what: 'two consumers' });
    const r = await both(p);
    sameAnswer(p, r);
    const clients = r.ours.json.clients;
    assert.deepEqual(clients.map((c) => c.client_id).sort(), ['fraud-worker-1', 'fraud-worker-2']);
    assert.equal(r.ours.json.in_flight_count + r.ours.json.deferred_count, r.ref.json.in_flight_count + r.ref.json.deferred_count);
    for (const c of clients) {
      assert.ok(cluster.nsqd.some((n) => n.http === c.node), `client node ${c.node}`);
      assert.ok(c.connected >= 0 && c.connected % 1e9 === 0, 'connected: whole seconds in ns');
    }
  });

  test('counter: the sum equals the channels\' message_count on nsqd', async () => {
    const r = await call(ours.root, '/api/counter');
    assert.equal(r.status, 200);
    const fromAdmin = Object.values(r.json.stats).filter((s) => s.topic_name === 'stable')
      .reduce((a, s) => a + s.message_count, 0);
    assert.equal(fromAdmin, 6);
  });
});

describe('admin actions have the same effect as the reference', () => {
  // each nsqadmin gets its own topic so the effects can be checked independently
  async function setupTopic(name) {
    for (const n of cluster.nsqd) {
      await nsqd.createTopic(n.http, name);
      await nsqd.createChannel(n.http, name, 'ch');
      await nsqd.mpub(n.http, name, ['1', '2', '3', '4']);
    }
    await waitFor(async () => (await lookupd.lookup(cluster.lookupd.http, name)).producers.length === 2,
      { what: `${name} registered` });
  }

  for (const [who, topic] of [['ours', 'act-ours'], ['ref', 'act-ref']]) {
    test(`${who}: pause/unpause/empty topic and channel, delete channel, delete topic`, async () => {
      const admin = who === 'ours' ? ours : ref;
      await setupTopic(topic);
      const post = (p, body) => call(admin.root, p, { method: 'POST', body });
      let r = await post(`/api/topics/${topic}`, { action: 'pause' });
      assert.deepEqual([r.status, r.json], [200, { message: '' }]);
      for (const n of cluster.nsqd) assert.equal((await nsqd.topic(n.http, topic)).paused, true);
      r = await post(`/api/topics/${topic}`, { action: 'unpause' });
      assert.equal(r.status, 200);
      for (const n of cluster.nsqd) assert.equal((await nsqd.topic(n.http, topic)).paused, false);
      r = await post(`/api/topics/${topic}/ch`, { action: 'pause' });
      assert.equal(r.status, 200);
      for (const n of cluster.nsqd) assert.equal((await nsqd.channel(n.http, topic, 'ch')).paused, true);
      r = await post(`/api/topics/${topic}/ch`, { action: 'empty' });
      assert.equal(r.status, 200);
      for (const n of cluster.nsqd) assert.equal((await nsqd.channel(n.http, topic, 'ch')).depth, 0);
      r = await post(`/api/topics/${topic}/ch`, { action: 'unpause' });
      assert.equal(r.status, 200);
      for (const n of cluster.nsqd) assert.equal((await nsqd.channel(n.http, topic, 'ch')).paused, false);
      r = await post(`/api/topics/${topic}`, { action: 'empty' });
      assert.equal(r.status, 200);
      r = await call(admin.root, `/api/topics/${topic}/ch`, { method: 'DELETE' });
      assert.deepEqual([r.status, r.json], [200, { message: '' }]);
      for (const n of cluster.nsqd) assert.equal(await nsqd.channel(n.http, topic, 'ch'), null);
      r = await call(admin.root, `/api/topics/${topic}`, { method: 'DELETE' });
      assert.deepEqual([r.status, r.json], [200, { message: '' }]);
      for (const n of cluster.nsqd) assert.equal(await nsqd.topic(n.http, topic), null);
      assert.ok(!(await lookupd.topics(cluster.lookupd.http)).includes(topic), 'gone from lookupd');
    });

    test(`${who}: create topic + channel through lookupd, tombstone a node`, async () => {
      const admin = who === 'ours' ? ours : ref;
      const name = `${topic}-new`;
      let r = await call(admin.root, '/api/topics', { method: 'POST', body: { topic: name, channel: 'fresh' } });
      assert.deepEqual([r.status, r.json], [200, { message: '' }]);
      assert.ok((await lookupd.topics(cluster.lookupd.http)).includes(name));
      assert.deepEqual(await lookupd.channels(cluster.lookupd.http, name), ['fresh']);

      const tomb = `${topic}-tomb`;
      await setupTopic(tomb);
      const node = cluster.nsqd[0].http;
      r = await call(admin.root, `/api/nodes/${node}`, { method: 'DELETE', body: { topic: tomb } });
      assert.deepEqual([r.status, r.json], [200, { message: '' }]);
      assert.equal(await nsqd.topic(node, tomb), null, 'deleted on the tombstoned node');
      assert.notEqual(await nsqd.topic(cluster.nsqd[1].http, tomb), null, 'kept on the other node');
      const nodes = await lookupd.nodes(cluster.lookupd.http);
      const n0 = nodes.find((p) => `${p.broadcast_address}:${p.http_port}` === node);
      const i = n0.topics.indexOf(tomb);
      assert.ok(i < 0 || n0.tombstones[i], 'tombstoned (or gone) in lookupd');
    });
  }
});

describe('inactive topics', () => {
  test('topics created through lookupd only are listed with their channels, like the reference', async () => {
    const r = await both('/api/topics?inactive=true');
    sameAnswer('/api/topics?inactive=true', r, { values: true });
    assert.deepEqual(r.ours.json.topics['act-ours-new'], ['fresh']);
    assert.ok(!('stable' in r.ours.json.topics));
  });
});

describe('bad input: same status and message as the reference', () => {
  const cases = [
    ['POST', '/api/topics', { topic: 'bad topic!' }],
    ['POST', '/api/topics', { topic: 'ok', channel: 'bad/channel' }],
    ['POST', '/api/topics', { topic: 'x'.repeat(65) }],
    ['POST', '/api/topics', '{"topic":'],
    ['POST', '/api/topics', ''],
    ['POST', '/api/topics', 'not json'],
    ['POST', '/api/topics', { topic: 5 }],
    ['POST', '/api/topics/stable', { action: 'explode' }],
    ['POST', '/api/topics/stable', {}],
    ['POST', '/api/topics/stable', '{'],
    ['POST', '/api/topics/stable/c', { action: 'nope' }],
    ['POST', '/api/topics/no-such-topic', { action: 'pause' }],
    ['POST', '/api/topics/no-such-topic/c', { action: 'empty' }],
    ['DELETE', '/api/topics/no-such-topic'],
    ['DELETE', '/api/topics/no-such-topic/c'],
    ['DELETE', '/api/nodes/127.0.0.1:1', 'garbage'],
    ['DELETE', '/api/nodes/127.0.0.1:1', { topic: 'bad topic' }],
    ['PUT', '/api/topics/stable'],
    ['PUT', '/config/log_level', 'loud'],
    ['PUT', '/config/no_such', 'x'],
    ['PUT', '/config/log_level', ''],
  ];
  for (const [method, p, body] of cases) {
    test(`${method} ${p} ${typeof body === 'string' ? JSON.stringify(body) : JSON.stringify(body ?? null)}`, async () => {
      sameAnswer(p, await both(p, { method, body }));
    });
  }
});

describe('ACL and notifications', () => {
  let hook;
  const received = [];
  let oursAcl;
  let refAcl;
  before(async () => {
    hook = http.createServer((req, res) => {
      let b = '';
      req.on('data', (d) => { b += d; });
      req.on('end', () => {
        received.push({ headers: req.headers, body: JSON.parse(b) });
        res.end('ok');
      });
    });
    await new Promise((r) => hook.listen(0, '127.0.0.1', r));
    const args = [`-lookupd-http-address=${cluster.lookupd.http}`, '-admin-user=alice', '-admin-user=bob',
      `-notification-http-endpoint=http://127.0.0.1:${hook.address().port}/hook`];
    oursAcl = await startAdmin(OURS, args, cluster.dir);
    refAcl = await startAdmin(REF, args, cluster.dir);
  });
  after(async () => {
    await oursAcl?.stop();
    await refAcl?.stop();
    hook?.close();
  });

  test('non-admins get 403 FORBIDDEN, admins pass; notifications match the reference', async () => {
    for (const admin of [oursAcl, refAcl]) {
      let r = await call(admin.root, '/api/topics/stable/c', { method: 'POST', body: { action: 'pause' } });
      assert.deepEqual([r.status, r.json], [403, { message: 'FORBIDDEN' }]);
      r = await call(admin.root, '/api/topics/stable', { method: 'DELETE', headers: { 'X-Forwarded-User': 'mallory' } });
      assert.deepEqual([r.status, r.json], [403, { message: 'FORBIDDEN' }]);
      r = await call(admin.root, '/api/topics/stable/c', {
        method: 'POST', body: { action: 'unpause' },
        headers: { 'X-Forwarded-User': 'bob', Authorization: 'Basic ' + Buffer.from('bob:pw').toString('base64'), 'User-Agent': 'acl-test' },
      });
      assert.deepEqual([r.status, r.json], [200, { message: '' }]);
      const page = await call(admin.root, '/');
      assert.equal(page.status, 200);
    }
    await waitFor(() => received.length >= 2, { what: 'two notifications' });
    const [a, b] = received.map((x) => x.body);
    assert.deepEqual(Object.keys(a), Object.keys(b));
    for (const n of [a, b]) {
      assert.equal(n.action, 'unpause_channel');
      assert.equal(n.topic, 'stable');
      assert.equal(n.channel, 'c');
      assert.equal(n.user, 'bob');
      assert.equal(n.user_agent, 'acl-test');
      assert.match(n.url, /^http:\/\/127\.0\.0\.1:\d+\/api\/topics\/stable\/c$/);
      assert.match(n.remote_ip, /^127\.0\.0\.1:\d+$/);
    }
    for (const x of received) assert.match(x.headers['content-type'], /application\/json/);
  });
});

describe('dead, slow and garbage upstreams', () => {
  let garbage;
  let slow;
  const slowSockets = [];
  let oursBad;
  let refBad;
  let oursDead;
  let refDead;
  before(async () => {
    garbage = http.createServer((req, res) => res.end('this is not json'));
    await new Promise((r) => garbage.listen(0, '127.0.0.1', r));
    slow = net.createServer((s) => slowSockets.push(s)); // accepts, never answers
    await new Promise((r) => slow.listen(0, '127.0.0.1', r));
    const args = [
      `-nsqd-http-address=${cluster.nsqd[0].http}`, '-nsqd-http-address=127.0.0.1:1',
      `-nsqd-http-address=127.0.0.1:${garbage.address().port}`, `-nsqd-http-address=127.0.0.1:${slow.address().port}`,
      '-http-client-request-timeout=1s', '-http-client-connect-timeout=1s',
    ];
    oursBad = await startAdmin(OURS, args, cluster.dir);
    refBad = await startAdmin(REF, args, cluster.dir);
    const dead = ['-lookupd-http-address=127.0.0.1:1', `-lookupd-http-address=127.0.0.1:${slow.address().port}`,
      '-http-client-request-timeout=1s'];
    oursDead = await startAdmin(OURS, dead, cluster.dir);
    refDead = await startAdmin(REF, dead, cluster.dir);
  });
  after(async () => {
    for (const a of [oursBad, refBad, oursDead, refDead]) await a?.stop();
    for (const s of slowSockets) s.destroy();
    garbage?.close();
    slow?.close();
  });

  const reads = ['/api/topics', '/api/topics/stable', '/api/topics/stable/c', '/api/nodes', '/api/counter',
    '/api/topics/no-such-topic'];
  for (const p of reads) {
    test(`partial failure (nsqd mode) ${p}: same status and WARNING, one timeout`, async () => {
      const [a, b] = await Promise.all([call(oursBad.root, p), call(refBad.root, p)]);
      sameAnswer(p, { ours: a, ref: b });
      assert.ok(a.ms < 2800, `answered in ${a.ms} ms (one 1s timeout, not several)`);
    });
    test(`all lookupds down ${p}: same 502 UPSTREAM_ERROR, no hang`, async () => {
      const [a, b] = await Promise.all([call(oursDead.root, p), call(refDead.root, p)]);
      sameAnswer(p, { ours: a, ref: b });
      assert.equal(a.status, 502);
      assert.match(a.json.message, /^UPSTREAM_ERROR: failed to query any nsqlookupd: /);
      assert.ok(a.ms < 2800, `answered in ${a.ms} ms`);
    });
  }

  test('partial failure on an action: pause still reaches the live node, WARNING lists the rest', async () => {
    const r = await call(oursBad.root, '/api/topics/stable/c', { method: 'POST', body: { action: 'pause' } });
    const q = await call(refBad.root, '/api/topics/stable/c', { method: 'POST', body: { action: 'unpause' } });
    assert.equal(r.status, q.status);
    assert.equal(normMessage(r.json.message), normMessage(q.json.message));
    assert.match(r.json.message, /^WARNING: /);
    await sleep(50);
  });
});

describe('command line', () => {
  function run(bin, args) {
    try {
      const out = execFileSync(bin, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 5000 });
      return { code: 0, out };
    } catch (e) {
      return { code: e.status, out: (e.stdout || '') + (e.stderr || '') };
    }
  }
  const strip = (s) => s.replace(/^\[nsqadmin\] \d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d\.\d+ /gm, '').trim();
  test('-h prints the same usage', () => {
    const a = run(OURS, ['-h']);
    const b = run(REF, ['-h']);
    assert.equal(a.code, b.code);
    assert.equal(a.out, b.out);
  });
  for (const args of [[], ['-lookupd-http-address=127.0.0.1:4161', '-nsqd-http-address=127.0.0.1:4151'],
    ['-no-such-flag'], ['-nsqd-http-address=nohost'], ['-lookupd-http-address=127.0.0.1:1', '-allow-config-from-cidr=bad']]) {
    test(`startup errors: ${args.join(' ') || '(none)'}`, () => {
      const a = run(OURS, args);
      const b = run(REF, args);
      assert.equal(a.code, b.code, `exit code: ours ${a.out} ref ${b.out}`);
      assert.equal(strip(a.out).split('\n')[0].replace(/^FATAL: /, ''), strip(b.out).split('\n')[0].replace(/^FATAL: /, ''));
    });
  }
});


describe('-base-path and compression', () => {
  let oursBp;
  let refBp;
  before(async () => {
    const args = [`-lookupd-http-address=${cluster.lookupd.http}`, '-base-path=admin/'];
    oursBp = await startAdmin(OURS, args, cluster.dir);
    refBp = await startAdmin(REF, args, cluster.dir).catch(async () => null);
  });
  after(async () => {
    await oursBp?.stop();
    await refBp?.stop();
  });
  for (const p of ['/admin/config/log_prefix', '/admin/config/statsd_interval', '/admin/ping', '/admin/api/topics', '/admin/api/nodes', '/api/topics', '/ping', '/admin/',
    '/admin/topics/stable', '/admin/static/no-such-file.js', '/admin/config/base_path']) {
    test(`GET ${p}`, async () => {
      const [a, b] = await Promise.all([call(oursBp.root, p), call(refBp.root, p)]);
      assert.equal(a.status, b.status, `${p}: ours ${a.status} ref ${b.status}`);
      if (b.json !== undefined && p.includes('/api/')) assert.deepEqual([...keySets(a.json)].sort(), [...keySets(b.json)].sort());
      if (p.endsWith('/admin/')) assert.match(a.text, /<div id="app">/);
      if (p.includes('/config/')) assert.equal(a.text, b.text);
    });
  }
  test('the reference UI\'s asset paths keep working: redirected to ours', async () => {
    for (const name of ['index.html', 'main.js', 'base.css', 'bootstrap.min.css', 'favicon.png', 'nsq_blue.png']) {
      const p = `/admin/static/${name}`;
      const [a, b] = await Promise.all([call(oursBp.root, p), call(refBp.root, p)]);
      assert.equal(b.status, 200, `ref ${p}`);
      assert.equal(a.status, 200, `ours ${p} (after the redirect)`);
    }
    const moved = {
      'main.js': '/admin/static/app.js', 'base.css': '/admin/static/app.css', 'favicon.png': '/admin/static/favicon.svg',
    };
    for (const [name, location] of Object.entries(moved)) {
      const r = await fetch(`${oursBp.root}/admin/static/${name}`, { redirect: 'manual' });
      assert.equal(r.status, 301, name);
      assert.equal(r.headers.get('location'), location, name);
    }
  });
  test('gzip and deflate like the reference', async () => {
    for (const enc of ['gzip', 'deflate', 'br, deflate, gzip']) {
      const [a, b] = await Promise.all([ours, ref].map((x) => call(x.root, '/api/topics', { headers: { 'Accept-Encoding': enc } })));
      assert.equal(a.headers.get('content-encoding'), b.headers.get('content-encoding'), enc);
      assert.equal(a.headers.get('vary'), b.headers.get('vary'));
      assert.deepEqual(a.json.topics, b.json.topics, 'decoded body');
    }
  });
});
