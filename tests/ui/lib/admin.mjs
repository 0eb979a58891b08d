// Starts extra nsqadmin processes (ours or the reference) against a running test cluster, and
// compares /api answers structurally.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { freePort, waitFor } from './cluster.mjs';

export const OURS = process.env.NSQADMIN_BIN || path.resolve('../../build/src/nsqadmin/nsqadmin');
export const REF = process.env.NSQADMIN_REF_BIN || '/work/refbin/nsqadmin';

/** Starts nsqadmin `bin` with `args`; resolves to { root, stop } once /ping answers. */
export async function startAdmin(bin, args, dir) {
  const port = await freePort();
  const log = path.join(dir, `admin-${port}.log`);
  const out = fs.openSync(log, 'a');
  const child = spawn(bin, [`-http-address=127.0.0.1:${port}`, ...args], { stdio: ['ignore', out, out] });
  fs.closeSync(out);
  const exited = new Promise((r) => child.once('exit', r));
  const root = `http://127.0.0.1:${port}`;
  const bp = args.find((a) => a.startsWith('-base-path='));
  const base = bp ? ('/' + bp.slice(11)).replace(/\/+/g, '/').replace(/\/$/, '') : '';
  await waitFor(async () => {
    if (child.exitCode !== null) throw new Error(`${bin} exited: ${fs.readFileSync(log, 'utf8')}`);
    const r = await fetch(`${root}${base}/ping`, { signal: AbortSignal.timeout(1000) });
    return r.ok;
  }, { timeout: 10000, what: `${bin} /ping` });
  return {
    root,
    log: () => fs.readFileSync(log, 'utf8'),
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** GET/POST/... returning { status, json, text, ms }. */
export async function call(root, p, { method = 'GET', body, headers = {}, timeout = 20000 } = {}) {
  const t0 = Date.now();
  const res = await fetch(root + p, {
    method,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    headers: { Accept: 'application/vnd.nsq; version=1.0', ...headers },
    signal: AbortSignal.timeout(timeout),
  });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, json, text, ms: Date.now() - t0, headers: res.headers };
}

/**
 * Every distinct key list (in order) of every object in a JSON tree: the "schema" of an answer.
 * Comparing these sets between our nsqadmin and the reference catches missing, extra or
 * reordered fields at every level while values (timestamps, order of equal hosts) may differ.
 */
export function keySets(v, out = new Set()) {
  if (Array.isArray(v)) for (const e of v) keySets(e, out);
  else if (v && typeof v === 'object') {
    out.add(Object.keys(v).join(','));
    for (const k of Object.keys(v)) keySets(v[k], out);
  }
  return out;
}

/** Drops the parts of an upstream error text that differ between runs (ports, timings). */
export function normMessage(m) {
  // Go reports a response-header timeout either way, depending on which of its two equal
  // deadlines fires first.
  let text = String(m ?? '').replace(/127\.0\.0\.1:\d+/g, 'ADDR')
    .replace(/(net\/http: timeout awaiting response headers|context deadline exceeded) \(Client\.Timeout/g, 'TIMEOUT (Client.Timeout');
  // The per-node errors come in the order the requests finished, with the "WARNING: " prefix
  // on whichever came first: compare the prefix and the set of lines.
  const prefix = text.startsWith('WARNING: ') ? 'WARNING: ' : '';
  text = text.slice(prefix.length);
  return prefix + text.split('\n').sort().join('\n');
}
