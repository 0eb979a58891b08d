// The only place that talks to nsqadmin's /api. Every request has a deadline; every failure
// becomes an ApiError with a message a person can read (the server's "message" when it sent one).
import { apiPath, config } from './config.js';

export const REQUEST_TIMEOUT_MS = 15000;

export class ApiError extends Error {
  constructor(message, { status = 0, kind = 'http', path = '' } = {}) {
    super(message);
    this.status = status; // HTTP status, 0 when no response
    this.kind = kind; // 'http' | 'network' | 'timeout' | 'decode' | 'aborted'
    this.path = path;
  }
}

/**
 * api('/topics') → parsed JSON. opts: method, body (object → JSON), signal, timeout (ms).
 * Rejects with ApiError; kind 'aborted' when the caller's signal aborted it.
 */
export async function api(path, { method = 'GET', body, signal, timeout = REQUEST_TIMEOUT_MS } = {}) {
  const ctl = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => { timedOut = true; ctl.abort(); }, timeout);
  const onAbort = () => ctl.abort();
  if (signal) {
    if (signal.aborted) ctl.abort();
    else signal.addEventListener('abort', onAbort, { once: true });
  }
  const headers = {
    Accept: 'application/vnd.nsq; version=1.0',
    'X-UserAgent': config.userAgent,
  };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const what = `${method} ${apiPath(path)}`;
  try {
    let res;
    try {
      res = await fetch(apiPath(path), {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: ctl.signal,
        cache: 'no-store',
        credentials: 'same-origin',
      });
    } catch (e) {
      if (timedOut) throw new ApiError(`nsqadmin did not answer within ${timeout / 1000}s (${what})`, { kind: 'timeout', path });
      if (signal && signal.aborted) throw new ApiError('aborted', { kind: 'aborted', path });
      throw new ApiError(`cannot reach nsqadmin (${what}): ${e.message || 'network error'}`, { kind: 'network', path });
    }
    let text;
    try {
      text = await res.text();
    } catch (e) {
      if (timedOut) throw new ApiError(`nsqadmin did not finish its answer within ${timeout / 1000}s (${what})`, { kind: 'timeout', path });
      if (signal && signal.aborted) throw new ApiError('aborted', { kind: 'aborted', path });
      throw new ApiError(`connection to nsqadmin lost (${what})`, { kind: 'network', path });
    }
    let json = null;
    if (text) {
      try {
        json = JSON.parse(text);
      } catch {
        if (res.ok) throw new ApiError(`nsqadmin sent something that is not JSON (${what})`, { status: res.status, kind: 'decode', path });
      }
    }
    if (!res.ok) {
      const msg = (json && json.message) || text.trim() || res.statusText || 'error';
      throw new ApiError(`${msg} (HTTP ${res.status})`, { status: res.status, kind: 'http', path });
    }
    return json ?? {};
  } finally {
    clearTimeout(timer);
    if (signal) signal.removeEventListener('abort', onAbort);
  }
}

// The pages import the warning splitter from here with the API; it lives in aggregate.js.
export { warnings } from './aggregate.js';

/** Runs fn over items with at most `limit` at once; returns results in order ({ok,value|error}). */
export async function pool(items, limit, fn) {
  const out = new Array(items.length);
  let next = 0;
  async function worker() {
    while (next < items.length) {
      const i = next++;
      try {
        out[i] = { ok: true, value: await fn(items[i], i) };
      } catch (error) {
        out[i] = { ok: false, error };
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
