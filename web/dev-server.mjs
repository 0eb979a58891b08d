#!/usr/bin/env node
// Development server for the nsqadmin UI (Node 20, standard library only).
//
// Serves the files of web/ the way the C++ nsqadmin does (see web/README.md, "Server contract")
// and proxies the nsqadmin API to a running nsqadmin, so the UI can be developed and tested
// against the reference nsqadmin (which embeds its own, older UI).
//
//   node web/dev-server.mjs --upstream=http://127.0.0.1:4171 [--listen=127.0.0.1:8171]
//        [--base-path=/] [--is-admin=auto|true|false] [--lookupd=a:4161,b:4161]
//
// --upstream     nsqadmin root URL, including its own --base-path if it has one
// --listen       where to listen (port 0 picks a free port; the address is printed)
// --base-path    base path the UI is served under here (independent of the upstream's)
// --is-admin     what IS_ADMIN the page gets; "auto" (default) asks the upstream's index page,
//                forwarding the request's X-Forwarded-User header (nsqadmin's ACL)
// --lookupd      nsqlookupd list shown on the Lookup page; default: read from the upstream
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const WEB_DIR = path.dirname(fileURLToPath(import.meta.url));

const args = Object.fromEntries(process.argv.slice(2).map((a) => {
  const m = /^--?([^=]+)(?:=(.*))?$/.exec(a);
  if (!m) {
    console.error(`bad argument: ${a}`);
    process.exit(2);
  }
  return [m[1], m[2] ?? 'true'];
}));

if (!args.upstream) {
  console.error('usage: node web/dev-server.mjs --upstream=http://127.0.0.1:4171 [--listen=127.0.0.1:8171] [--base-path=/]');
  process.exit(2);
}

const upstream = new URL(args.upstream.replace(/\/+$/, '') + '/');
const upstreamBase = upstream.pathname.replace(/\/+$/, ''); // '' or '/x'
const basePath = normBase(args['base-path'] || '/');
const [listenHost, listenPort] = (args.listen || '127.0.0.1:8171').split(/:(?=\d+$)/);

// Same table the C++ server must use: ES modules need a JavaScript MIME type.
const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

const SPA_ROUTES = [
  /^\/$/, /^\/topics$/, /^\/topics\/[^/]+$/, /^\/topics\/[^/]+\/[^/]+$/,
  /^\/nodes$/, /^\/nodes\/[^/]+$/, /^\/counter$/, /^\/lookup$/,
];

function normBase(p) {
  const s = ('/' + p).replace(/\/+/g, '/').replace(/\/+$/, '');
  return s; // '' for '/'
}

function send(res, status, body, headers = {}) {
  res.writeHead(status, { 'Content-Length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

// Reads the configuration the reference nsqadmin puts in its index page as JS globals.
async function upstreamConfig(req) {
  const cfg = { version: 'unknown', nsqlookupd: [], is_admin: true, upstream_error: '' };
  try {
    const headers = {};
    if (req.headers['x-forwarded-user']) headers['X-Forwarded-User'] = req.headers['x-forwarded-user'];
    const r = await fetch(new URL('./', upstream), { headers, signal: AbortSignal.timeout(3000) });
    const page = await r.text();
    const v = /var VERSION = "([^"]*)"/.exec(page);
    if (v) cfg.version = v[1];
    const l = /var NSQLOOKUPD = \[(.*?)\];/s.exec(page);
    if (l) cfg.nsqlookupd = JSON.parse('[' + l[1].trim().replace(/,$/, '') + ']');
    const a = /var IS_ADMIN = (true|false);/.exec(page);
    if (a) cfg.is_admin = a[1] === 'true';
  } catch (e) {
    cfg.upstream_error = String(e.message || e);
  }
  return cfg;
}

async function serveIndex(req, res) {
  const cfg = await upstreamConfig(req);
  if (args['is-admin'] === 'true' || args['is-admin'] === 'false') cfg.is_admin = args['is-admin'] === 'true';
  if (args.lookupd !== undefined) cfg.nsqlookupd = args.lookupd.split(',').filter(Boolean);
  const config = {
    version: cfg.version,
    base_path: basePath || '/',
    nsqlookupd: cfg.nsqlookupd,
    is_admin: cfg.is_admin,
    user_agent: `nsqadmin/v${cfg.version}`,
    graphite_url: '',
    graph_enabled: false,
  };
  const tpl = fs.readFileSync(path.join(WEB_DIR, 'index.html'), 'utf8');
  const page = renderIndex(tpl, basePath, config);
  send(res, 200, page, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-cache' });
}

/** The substitution the C++ server performs on web/index.html (web/README.md). */
export function renderIndex(tpl, base, config) {
  const attr = base.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  const json = JSON.stringify(config).replace(/</g, '\\u003c').replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026');
  return tpl.split('__NSQADMIN_BASE_PATH__').join(attr).split('__NSQADMIN_CONFIG__').join(json);
}

function serveStatic(res, name) {
  const ext = path.extname(name);
  if (!/^[A-Za-z0-9._-]+$/.test(name) || name.startsWith('.') || !MIME[ext] || name.endsWith('.mjs')) {
    return send(res, 404, 'NOT_FOUND', { 'Content-Type': 'text/plain; charset=utf-8' });
  }
  let body;
  try {
    body = fs.readFileSync(path.join(WEB_DIR, name));
  } catch {
    return send(res, 404, 'NOT_FOUND', { 'Content-Type': 'text/plain; charset=utf-8' });
  }
  res.writeHead(200, { 'Content-Type': MIME[ext], 'Content-Length': body.length, 'Cache-Control': 'no-cache' });
  res.end(body);
}

function proxy(req, res, rest) {
  const target = new URL(upstreamBase + rest, upstream);
  const headers = { ...req.headers, host: target.host };
  delete headers.connection;
  const preq = http.request(target, { method: req.method, headers, timeout: 30000 }, (pres) => {
    res.writeHead(pres.statusCode, pres.headers);
    pres.pipe(res);
  });
  preq.on('timeout', () => preq.destroy(new Error('upstream timeout')));
  preq.on('error', (e) => {
    if (res.headersSent) return res.destroy();
    send(res, 502, JSON.stringify({ message: `UPSTREAM_ERROR: dev-server cannot reach nsqadmin at ${upstream.origin}: ${e.message}` }),
      { 'Content-Type': 'application/json; charset=utf-8' });
  });
  req.pipe(preq);
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  let p = url.pathname;
  if (basePath) {
    if (p === basePath) p = '/';
    else if (p.startsWith(basePath + '/')) p = p.slice(basePath.length);
    else return send(res, 404, 'NOT_FOUND', { 'Content-Type': 'text/plain; charset=utf-8' });
  }
  if (p.startsWith('/api/') || p === '/api' || p === '/ping' || p.startsWith('/config/')) {
    return proxy(req, res, p + url.search);
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    return send(res, 405, JSON.stringify({ message: 'METHOD_NOT_ALLOWED' }), { 'Content-Type': 'application/json' });
  }
  const st = /^\/static\/([^/]+)$/.exec(p);
  if (st) return serveStatic(res, decodeURIComponent(st[1]));
  if (SPA_ROUTES.some((r) => r.test(p))) {
    return serveIndex(req, res).catch((e) => send(res, 500, String(e)));
  }
  send(res, 404, 'NOT_FOUND', { 'Content-Type': 'text/plain; charset=utf-8' });
});

server.listen(Number(listenPort), listenHost, () => {
  const a = server.address();
  console.log(`dev-server listening on http://${a.address}:${a.port}${basePath}/ (upstream ${upstream.href})`);
});

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
    setTimeout(() => process.exit(0), 500).unref();
  });
}
