// Number, duration and rate formatting used by every page.

const intFmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** 1234567 → "1,234,567"; null/undefined → "–". */
export function commafy(n) {
  if (n == null || Number.isNaN(n)) return '–';
  return intFmt.format(n);
}

/** 1234567 → "1.23M" (for compact cards and axis labels). */
export function compact(n) {
  if (n == null || Number.isNaN(n)) return '–';
  const a = Math.abs(n);
  const units = [[1e12, 'T'], [1e9, 'B'], [1e6, 'M'], [1e3, 'k']];
  for (const [v, u] of units) {
    if (a >= v) {
      const x = n / v;
      return (Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 10 ? x.toFixed(1) : x.toFixed(2)) + u;
    }
  }
  return Number.isInteger(n) ? String(n) : n.toFixed(a >= 10 ? 1 : 2);
}

/** Messages per second: null → "–", 0 → "0", 0.25 → "0.25", 12.3 → "12.3", 12345 → "12.3k". */
export function rate(r) {
  if (r == null || Number.isNaN(r)) return '–';
  if (r === 0) return '0';
  if (Math.abs(r) < 10) return r.toFixed(2).replace(/\.?0+$/, '') || '0';
  if (Math.abs(r) < 1000) return r.toFixed(1).replace(/\.0$/, '');
  return compact(r);
}

/** Nanoseconds → "1.2ms" / "850µs" / "3.4s" (e2e latency). */
export function nanos(ns) {
  if (ns == null || Number.isNaN(ns)) return '–';
  const a = Math.abs(ns);
  if (a >= 1e9) return trim(ns / 1e9) + 's';
  if (a >= 1e6) return trim(ns / 1e6) + 'ms';
  if (a >= 1e3) return trim(ns / 1e3) + 'µs';
  return Math.round(ns) + 'ns';
}

function trim(x) {
  const s = Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 10 ? x.toFixed(1) : x.toFixed(2);
  // Only a fraction's trailing zeros go: 850 stays "850" (it read "85" before), 1.50 is "1.5".
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

/** Nanoseconds of a duration → "2d 3h", "1h 4m", "5m 12s", "42s". */
export function duration(ns) {
  if (ns == null || Number.isNaN(ns)) return '–';
  let s = Math.max(0, Math.floor(ns / 1e9));
  const d = Math.floor(s / 86400); s -= d * 86400;
  const h = Math.floor(s / 3600); s -= h * 3600;
  const m = Math.floor(s / 60); s -= m * 60;
  if (d) return `${d}d ${h}h`;
  if (h) return `${h}h ${m}m`;
  if (m) return `${m}m ${s}s`;
  return `${s}s`;
}

/** Quantile 0.99 → "p99", 0.999 → "p99.9", 1 → "max". */
export function quantile(q) {
  if (q >= 1) return 'max';
  return 'p' + String(+(q * 100).toFixed(4));
}

/** "12 s ago" style for the last-refresh indicator. */
export function ago(ms) {
  const s = Math.round(ms / 1000);
  if (s < 2) return 'just now';
  if (s < 60) return `${s}s ago`;
  return `${Math.round(s / 60)}m ago`;
}

/** Client state number (nsqd /stats) → label. */
export function clientState(s) {
  return { 0: 'init', 1: 'disconnected', 2: 'connected', 3: 'subscribed', 4: 'closing' }[s] ?? String(s);
}
