// SVG sparklines and the larger area chart, drawn from series.js data.
import { html, raw } from './html.js';
import { compact } from './format.js';

function extent(vals) {
  let min = Infinity;
  let max = -Infinity;
  for (const v of vals) {
    if (v == null) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return [min, max];
}

// Builds path segments, breaking at nulls. xs/ys already in pixel space.
function paths(xs, ys) {
  const segs = [];
  let cur = [];
  for (let i = 0; i < xs.length; i++) {
    if (ys[i] == null) {
      if (cur.length) segs.push(cur);
      cur = [];
    } else {
      cur.push([xs[i], ys[i]]);
    }
  }
  if (cur.length) segs.push(cur);
  return segs;
}

const f = (n) => (Math.round(n * 10) / 10).toString();

/**
 * Small inline chart. series: { t: [...], v: [...] }. opts: w, h, kind ('rate'|'depth'),
 * title (tooltip). With fewer than two points it draws a dashed baseline ("collecting").
 */
export function sparkline(series, { w = 96, h = 24, kind = 'rate', title = '', stretch = false } = {}) {
  const { t, v } = series;
  const cls = `spark spark-${kind}`;
  if (!t || t.length < 2 || v.every((x) => x == null)) {
    return html`<svg class="${cls} empty${stretch ? ' stretch' : ''}" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" ${stretch ? raw('preserveAspectRatio="none"') : ''} aria-hidden="true"><line x1="1" x2="${w - 1}" y1="${h - 2}" y2="${h - 2}"/></svg>`;
  }
  const t0 = t[0];
  const span = Math.max(1, t[t.length - 1] - t0);
  let [min, max] = extent(v);
  min = Math.min(0, min);
  if (max <= min) max = min + 1;
  const pad = 2;
  const xs = t.map((x) => pad + ((x - t0) / span) * (w - 2 * pad));
  const ys = v.map((y) => (y == null ? null : h - pad - ((y - min) / (max - min)) * (h - 2 * pad)));
  const segs = paths(xs, ys);
  const line = segs.map((s) => 'M' + s.map(([x, y]) => `${f(x)},${f(y)}`).join('L')).join('');
  const area = segs.filter((s) => s.length > 1)
    .map((s) => `M${f(s[0][0])},${h - pad}L` + s.map(([x, y]) => `${f(x)},${f(y)}`).join('L') + `L${f(s[s.length - 1][0])},${h - pad}Z`).join('');
  const lastSeg = segs[segs.length - 1];
  const [lx, ly] = lastSeg ? lastSeg[lastSeg.length - 1] : [0, 0];
  if (stretch) {
    return html`<svg class="${cls} stretch" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" preserveAspectRatio="none" role="img" aria-label="${title}"><path class="area" d="${area}"/><path class="line" d="${line}" vector-effect="non-scaling-stroke"/></svg>`;
  }
  return html`<svg class="${cls}" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" role="img" aria-label="${title}">${title ? html`<title>${title}</title>` : ''}<path class="area" d="${area}"/><path class="line" d="${line}"/><circle cx="${f(lx)}" cy="${f(ly)}" r="1.8"/></svg>`;
}

/**
 * Larger area chart that stretches to its container's width (paths in a non-uniformly scaled
 * SVG, labels as HTML so text is never distorted). opts: h, unit, kind, label.
 */
export function chart(series, { h = 180, unit = '', kind = 'rate', label = '' } = {}) {
  const { t, v } = series;
  const w = 1000; // viewBox width; scaled to the container
  const grid = [0.25, 0.5, 0.75].map((p) => `M0,${f(h * p)}H${w}`).join('') + `M0,${h - 0.5}H${w}`;
  if (!t || t.length < 2 || v.every((x) => x == null)) {
    return html`<div class="chart chart-${kind} empty" style="height:${h}px" role="img" aria-label="${label}: collecting samples">
      <svg viewBox="0 0 ${w} ${h}" preserveAspectRatio="none"><path class="grid" d="${grid}"/></svg>
      <span class="chart-center">collecting samples…</span></div>`;
  }
  const t0 = t[0];
  const span = Math.max(1, t[t.length - 1] - t0);
  let [, max] = extent(v);
  if (!(max > 0)) max = 1;
  max = niceMax(max);
  const top = 4;
  const xs = t.map((x) => ((x - t0) / span) * w);
  const ys = v.map((y) => (y == null ? null : top + (h - top) - (y / max) * (h - top)));
  const segs = paths(xs, ys);
  const line = segs.map((s) => 'M' + s.map(([x, y]) => `${f(x)},${f(y)}`).join('L')).join('');
  const area = segs.filter((s) => s.length > 1)
    .map((s) => `M${f(s[0][0])},${h}L` + s.map(([x, y]) => `${f(x)},${f(y)}`).join('L') + `L${f(s[s.length - 1][0])},${h}Z`).join('');
  const secs = Math.round(span / 1000);
  const spanLabel = secs >= 120 ? `${Math.round(secs / 60)} min ago` : `${secs} s ago`;
  return html`<div class="chart chart-${kind}" style="height:${h}px" role="img" aria-label="${label}">
    <svg viewBox="0 0 ${w} ${h}" preserveAspectRatio="none"><path class="grid" d="${grid}"/><path class="area" d="${area}"/><path class="line" d="${line}" vector-effect="non-scaling-stroke"/></svg>
    <span class="chart-max">${compact(max)}${unit}</span>
    <span class="chart-mid">${compact(max / 2)}${unit}</span>
    <span class="chart-from">${spanLabel}</span><span class="chart-to">now</span></div>`;
}

function niceMax(x) {
  const e = Math.pow(10, Math.floor(Math.log10(x)));
  for (const m of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * e >= x) return m * e;
  return 10 * e;
}

export { raw };
