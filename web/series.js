// In-memory rolling time series built from the UI's own polling (no Graphite needed).
//
// Every page that polls records samples under a key ("topic:<t>", "topic:<t>@<node>",
// "channel:<t>/<c>", "node:<n>", "cluster", "counter"); the store keeps the last WINDOW_MS of
// samples per key, so history survives navigation between pages of the same session.
// Rates are derived from counter deltas (message_count etc.); a counter that goes backwards
// (nsqd restarted, topic emptied/deleted and recreated) yields a gap, never a negative rate.

export const WINDOW_MS = 10 * 60 * 1000;
const MAX_POINTS = 600;
const MAX_KEYS = 20000;

const store = new Map(); // key -> { t: number[], f: { field: number[] } }

/** Records a sample: fields is { depth: 12, message_count: 345, ... }. */
export function record(key, fields, t = Date.now()) {
  let s = store.get(key);
  if (!s) {
    if (store.size >= MAX_KEYS) evictOldest();
    s = { t: [], f: {} };
    store.set(key, s);
  }
  const n = s.t.length;
  if (n && t - s.t[n - 1] < 250) {
    // two pages sampled the same thing at once: keep the newer value only
    for (const k of Object.keys(fields)) {
      if (!s.f[k]) s.f[k] = new Array(n).fill(null);
      s.f[k][n - 1] = fields[k];
    }
    s.t[n - 1] = t;
    return;
  }
  s.t.push(t);
  for (const k of Object.keys(fields)) {
    if (!s.f[k]) s.f[k] = new Array(n).fill(null);
  }
  for (const k of Object.keys(s.f)) s.f[k].push(k in fields ? fields[k] : null);
  let drop = 0;
  while (drop < s.t.length - 2 && (t - s.t[drop] > WINDOW_MS || s.t.length - drop > MAX_POINTS)) drop++;
  if (drop) {
    s.t.splice(0, drop);
    for (const k of Object.keys(s.f)) s.f[k].splice(0, drop);
  }
}

function evictOldest() {
  let oldestKey = null;
  let oldest = Infinity;
  for (const [k, s] of store) {
    const last = s.t[s.t.length - 1] ?? 0;
    if (last < oldest) { oldest = last; oldestKey = k; }
  }
  if (oldestKey) store.delete(oldestKey);
}

/** Values of one field: { t: [...], v: [...] } (copies). */
export function values(key, field) {
  const s = store.get(key);
  if (!s || !s.f[field]) return { t: [], v: [] };
  return { t: s.t.slice(), v: s.f[field].slice() };
}

/** Per-second rate series of a counter field: { t, v } with one point per sample interval. */
export function rates(key, field = 'message_count') {
  const s = store.get(key);
  if (!s || !s.f[field]) return { t: [], v: [] };
  const t = [];
  const v = [];
  const c = s.f[field];
  for (let i = 1; i < s.t.length; i++) {
    t.push(s.t[i]);
    const dt = (s.t[i] - s.t[i - 1]) / 1000;
    if (c[i] == null || c[i - 1] == null || c[i] < c[i - 1] || dt <= 0) v.push(null);
    else v.push((c[i] - c[i - 1]) / dt);
  }
  return { t, v };
}

/**
 * Current rate of a counter: computed over the last ~10 s of samples (smoother than the last
 * interval alone), null until two samples exist.
 */
export function currentRate(key, field = 'message_count', spanMs = 10000) {
  const s = store.get(key);
  if (!s || !s.f[field] || s.t.length < 2) return null;
  const c = s.f[field];
  const last = s.t.length - 1;
  if (c[last] == null) return null;
  let i = last - 1;
  while (i > 0 && s.t[last] - s.t[i] < spanMs && c[i - 1] != null && c[i - 1] <= c[i]) i--;
  if (c[i] == null || c[i] > c[last]) return null;
  const dt = (s.t[last] - s.t[i]) / 1000;
  return dt > 0 ? (c[last] - c[i]) / dt : null;
}

export function forget(prefix) {
  for (const k of store.keys()) if (k === prefix || k.startsWith(prefix)) store.delete(k);
}

export function size() { return store.size; }
