// Starts and stops an NSQ cluster for the UI tests and the UI benchmark.
//
// Managed mode (default): nsqlookupd + N nsqd + nsqadmin are started on free loopback ports
// with temp data dirs and stopped by PID. The UI is reached either through web/dev-server.mjs
// (which serves web/ and proxies /api/ to nsqadmin: needed for the reference nsqadmin, which
// embeds its own UI) or directly from nsqadmin (our C++ nsqadmin embeds web/).
//
// Environment:
//   NSQ_BIN_DIR       directory holding nsqd, nsqlookupd, nsqadmin (default /work/refbin)
//   NSQD_BIN, NSQLOOKUPD_BIN, NSQADMIN_BIN   override one binary each
//   UI_SERVER         "dev" (default): UI served by web/dev-server.mjs proxying to nsqadmin;
//                     "nsqadmin": the UI is served by nsqadmin itself (embedded web/)
//   UI_BASE_PATH      base path given to nsqadmin (and the dev server), default "/"
//   NSQ_UI_EXTERNAL=1 use an already running cluster described by:
//     UI_URL                  the UI's root URL, base path included (e.g. http://127.0.0.1:4171/)
//     NSQD_HTTP_ADDRESSES     comma-separated nsqd HTTP addresses (host:port)
//     NSQD_TCP_ADDRESSES      comma-separated nsqd TCP addresses, same order
//     LOOKUPD_HTTP_ADDRESSES  comma-separated nsqlookupd HTTP addresses
//   In external mode tests that must stop a daemon are skipped.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(HERE, '../../..');
export const WEB_DIR = path.join(REPO, 'web');

const BIN_DIR = process.env.NSQ_BIN_DIR || '/work/refbin';
export const BINS = {
  nsqd: process.env.NSQD_BIN || path.join(BIN_DIR, 'nsqd'),
  nsqlookupd: process.env.NSQLOOKUPD_BIN || path.join(BIN_DIR, 'nsqlookupd'),
  nsqadmin: process.env.NSQADMIN_BIN || path.join(BIN_DIR, 'nsqadmin'),
};

export const EXTERNAL = process.env.NSQ_UI_EXTERNAL === '1';

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls fn until it returns a truthy value or the deadline passes. */
export async function waitFor(fn, { timeout = 10000, interval = 100, what = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let lastErr;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      lastErr = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}${lastErr ? `: ${lastErr.message}` : ''}`);
    }
    await sleep(interval);
  }
}

export async function httpJSON(url, { method = 'GET', body, headers = {}, timeout = 10000 } = {}) {
  const res = await fetch(url, {
    method,
    body,
    headers: { Accept: 'application/vnd.nsq; version=1.0', ...headers },
    signal: AbortSignal.timeout(timeout),
  });
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
  if (!res.ok) {
    const err = new Error(`${method} ${url}: HTTP ${res.status} ${text}`);
    err.status = res.status;
    throw err;
  }
  return json ?? text;
}

class Proc {
  constructor(name, cmd, args, logDir) {
    this.name = name;
    this.cmd = cmd;
    this.args = args;
    this.logFile = path.join(logDir, `${name}.log`);
  }

  start() {
    const out = fs.openSync(this.logFile, 'a');
    this.child = spawn(this.cmd, this.args, { stdio: ['ignore', out, out] });
    fs.closeSync(out);
    this.exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.once('error', () => {});
    return this;
  }

  get pid() { return this.child?.pid; }
  get running() { return this.child && this.child.exitCode === null && this.child.signalCode === null; }

  async stop(signal = 'SIGTERM') {
    if (!this.running) return;
    this.child.kill(signal);
    const t = setTimeout(() => this.running && this.child.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(t);
  }

  log() {
    try { return fs.readFileSync(this.logFile, 'utf8'); } catch { return ''; }
  }
}

async function waitHTTP(url, proc) {
  await waitFor(async () => {
    if (proc && !proc.running) throw new Error(`${proc.name} exited:\n${proc.log().slice(-2000)}`);
    const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
    return res.ok;
  }, { timeout: 15000, what: url });
}

function normBase(p) {
  if (!p || p === '/') return '';
  return ('/' + p.replace(/^\/+|\/+$/g, '')).replace(/\/+/g, '/');
}

/**
 * Starts a cluster. Returns an object with the addresses, helpers and stop().
 * opts: nsqdCount (2), e2e (percentiles string for nsqd 0 or null), basePath, adminArgs,
 *       uiServer ('dev'|'nsqadmin'), nsqdMode (true: nsqadmin -nsqd-http-address instead of lookupd),
 *       nsqdArgs (more flags for every nsqd)
 */
export async function startCluster(opts = {}) {
  if (EXTERNAL) return externalCluster();
  const {
    nsqdCount = 2,
    e2e = '0.99,0.95,0.5',
    basePath = process.env.UI_BASE_PATH || '/',
    adminArgs = [],
    uiServer = process.env.UI_SERVER || 'dev',
    nsqdMode = false,
    nsqdArgs = [],
  } = opts;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsq-ui-'));
  const procs = [];
  const cluster = {
    dir,
    procs,
    external: false,
    basePath: normBase(basePath),
    nsqd: [],
  };
  try {
    const lTcp = await freePort();
    const lHttp = await freePort();
    const lookupd = new Proc('nsqlookupd', BINS.nsqlookupd, [
      `-tcp-address=127.0.0.1:${lTcp}`, `-http-address=127.0.0.1:${lHttp}`,
      '-broadcast-address=127.0.0.1',
    ], dir).start();
    procs.push(lookupd);
    cluster.lookupd = { proc: lookupd, tcp: `127.0.0.1:${lTcp}`, http: `127.0.0.1:${lHttp}` };
    await waitHTTP(`http://127.0.0.1:${lHttp}/ping`, lookupd);

    for (let i = 0; i < nsqdCount; i++) {
      const tcp = await freePort();
      const http = await freePort();
      const dataDir = path.join(dir, `nsqd${i}`);
      fs.mkdirSync(dataDir);
      const args = [
        `-tcp-address=127.0.0.1:${tcp}`, `-http-address=127.0.0.1:${http}`,
        `-lookupd-tcp-address=127.0.0.1:${lTcp}`, `-data-path=${dataDir}`,
        '-broadcast-address=127.0.0.1',
      ];
      if (i === 0 && e2e) args.push(`-e2e-processing-latency-percentile=${e2e}`);
      args.push(...nsqdArgs);
      const node = {
        index: i,
        tcp: `127.0.0.1:${tcp}`,
        http: `127.0.0.1:${http}`,
        args,
        proc: null,
      };
      node.start = async () => {
        node.proc = new Proc(`nsqd${i}`, BINS.nsqd, args, dir).start();
        procs.push(node.proc);
        await waitHTTP(`http://${node.http}/ping`, node.proc);
      };
      node.stop = async (signal) => node.proc && node.proc.stop(signal);
      await node.start();
      cluster.nsqd.push(node);
    }
    // nsqd registers with lookupd asynchronously: wait until every node is listed
    await waitFor(async () => {
      const j = await httpJSON(`http://127.0.0.1:${lHttp}/nodes`);
      return j.producers.length === nsqdCount;
    }, { what: 'nsqd registration with nsqlookupd' });

    const aHttp = await freePort();
    const aArgs = [`-http-address=127.0.0.1:${aHttp}`];
    if (nsqdMode) for (const n of cluster.nsqd) aArgs.push(`-nsqd-http-address=${n.http}`);
    else aArgs.push(`-lookupd-http-address=127.0.0.1:${lHttp}`);
    if (cluster.basePath) aArgs.push(`-base-path=${cluster.basePath}`);
    aArgs.push(...adminArgs);
    const admin = new Proc('nsqadmin', BINS.nsqadmin, aArgs, dir).start();
    procs.push(admin);
    const adminRoot = `http://127.0.0.1:${aHttp}${cluster.basePath}`;
    await waitHTTP(`${adminRoot}/ping`, admin);
    cluster.admin = { proc: admin, http: `127.0.0.1:${aHttp}`, root: adminRoot, api: `${adminRoot}/api` };

    if (uiServer === 'dev') {
      const dev = await startDevServer({ upstream: adminRoot, basePath: cluster.basePath || '/', dir });
      procs.push(dev.proc);
      cluster.dev = dev;
      cluster.uiRoot = dev.root;
    } else {
      cluster.uiRoot = adminRoot;
    }
  } catch (e) {
    await stopProcs(procs);
    throw e;
  }
  cluster.lookupdHttp = [cluster.lookupd.http];
  cluster.url = (p = '/') => cluster.uiRoot + (p === '/' ? '/' : p);
  cluster.stop = async () => {
    await stopProcs(procs);
    if (!process.env.KEEP_CLUSTER_DIR) fs.rmSync(dir, { recursive: true, force: true });
  };
  return cluster;
}

async function stopProcs(procs) {
  await Promise.all(procs.slice().reverse().map((p) => p.stop().catch(() => {})));
}

/** Starts web/dev-server.mjs proxying to `upstream`; resolves when it listens. */
export async function startDevServer({ upstream, basePath = '/', dir, extraArgs = [] }) {
  const port = await freePort();
  const proc = new Proc(`dev-server-${port}`, process.execPath, [
    path.join(WEB_DIR, 'dev-server.mjs'),
    `--upstream=${upstream}`,
    `--listen=127.0.0.1:${port}`,
    `--base-path=${basePath}`,
    ...extraArgs,
  ], dir || os.tmpdir()).start();
  const root = `http://127.0.0.1:${port}${normBase(basePath)}`;
  await waitHTTP(`${root}/static/index.html`, proc);
  return { proc, root, port, stop: () => proc.stop() };
}

function externalCluster() {
  const list = (v) => (v || '').split(',').map((s) => s.trim()).filter(Boolean);
  const http = list(process.env.NSQD_HTTP_ADDRESSES);
  const tcp = list(process.env.NSQD_TCP_ADDRESSES);
  const uiRoot = (process.env.UI_URL || 'http://127.0.0.1:4171/').replace(/\/+$/, '');
  const u = new URL(uiRoot + '/');
  const cluster = {
    external: true,
    basePath: normBase(u.pathname),
    nsqd: http.map((h, i) => ({ index: i, http: h, tcp: tcp[i] })),
    lookupdHttp: list(process.env.LOOKUPD_HTTP_ADDRESSES),
    uiRoot,
    admin: { root: uiRoot, api: `${uiRoot}/api` },
    stop: async () => {},
  };
  cluster.lookupd = { http: cluster.lookupdHttp[0] };
  cluster.url = (p = '/') => cluster.uiRoot + (p === '/' ? '/' : p);
  return cluster;
}

// ---- nsqd / nsqlookupd HTTP helpers --------------------------------------------------------

export const nsqd = {
  stats: (addr, q = '') => httpJSON(`http://${addr}/stats?format=json${q}`),
  pub: (addr, topic, body) => httpJSON(`http://${addr}/pub?topic=${encodeURIComponent(topic)}`, { method: 'POST', body }),
  mpub: (addr, topic, bodies) => httpJSON(`http://${addr}/mpub?topic=${encodeURIComponent(topic)}`, { method: 'POST', body: bodies.join('\n') }),
  createTopic: (addr, topic) => httpJSON(`http://${addr}/topic/create?topic=${encodeURIComponent(topic)}`, { method: 'POST' }),
  createChannel: (addr, topic, ch) => httpJSON(`http://${addr}/channel/create?topic=${encodeURIComponent(topic)}&channel=${encodeURIComponent(ch)}`, { method: 'POST' }),
  async topic(addr, topic) {
    const s = await nsqd.stats(addr, `&topic=${encodeURIComponent(topic)}`);
    return (s.topics || []).find((t) => t.topic_name === topic) || null;
  },
  async channel(addr, topic, ch) {
    const t = await nsqd.topic(addr, topic);
    return t ? t.channels.find((c) => c.channel_name === ch) || null : null;
  },
};

export const lookupd = {
  topics: async (addr) => (await httpJSON(`http://${addr}/topics`)).topics,
  channels: async (addr, topic) => (await httpJSON(`http://${addr}/channels?topic=${encodeURIComponent(topic)}`)).channels,
  lookup: (addr, topic) => httpJSON(`http://${addr}/lookup?topic=${encodeURIComponent(topic)}`).catch((e) => {
    if (e.status === 404) return { channels: [], producers: [] };
    throw e;
  }),
  nodes: async (addr) => (await httpJSON(`http://${addr}/nodes`)).producers,
};
