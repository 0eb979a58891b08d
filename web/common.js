// Pieces shared by the topic, channel and node pages: host cells, e2e latency columns,
// admin actions with confirmation.
import { api } from './api.js';
import { config, pagePath } from './config.js';
import { html } from './html.js';
import { nanos, quantile } from './format.js';
import { confirmDialog, label, toast } from './ui.js';

export function nodeHref(addr) {
  return pagePath('/nodes/' + encodeURIComponent(addr));
}

export function topicHref(t) {
  return pagePath('/topics/' + encodeURIComponent(t));
}

export function channelHref(t, c) {
  return pagePath('/topics/' + encodeURIComponent(t) + '/' + encodeURIComponent(c));
}

/** nsqd host cell: link to the node page, hostname when it differs from the address. */
export function hostCell(addr, hostname) {
  const host = String(addr).replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  const showHost = hostname && hostname.toLowerCase() !== host.toLowerCase();
  return html`<a href="${nodeHref(addr)}" class="mono">${addr}</a>${showHost ? html` <span class="muted small">${hostname}</span>` : ''}`;
}

/** Quantiles present in an e2e_processing_latency aggregate (sorted, highest first). */
export function e2eQuantiles(e2e) {
  const ps = (e2e && e2e.percentiles) || [];
  return ps.map((p) => p.quantile).sort((a, b) => b - a);
}

export function e2eHeaders(qs) {
  return qs.map((q, i) => html`<th class="num e2e ${i === 0 ? 'group-start' : ''}" title="end-to-end processing latency, ${quantile(q)}">${quantile(q)}</th>`);
}

export function e2eCells(e2e, qs) {
  const ps = (e2e && e2e.percentiles) || [];
  return qs.map((q, i) => {
    const p = ps.find((x) => x.quantile === q);
    if (!p || !(p.count > 0 || (e2e.count > 0 && p.count == null))) {
      return html`<td class="num e2e ${i === 0 ? 'group-start' : ''}" title="no messages measured yet"><span class="muted">–</span></td>`;
    }
    const avg = p.average ?? p.value;
    const tip = p.min != null ? `${quantile(q)}: min ${nanos(p.min)}, max ${nanos(p.max)}` : '';
    return html`<td class="num e2e ${i === 0 ? 'group-start' : ''}" data-field="e2e-${quantile(q)}" title="${tip}">${nanos(avg)}</td>`;
  });
}

export function pausedLabel(paused) {
  return paused ? label('paused', 'paused') : '';
}

/**
 * Confirms, then runs an admin action against the API.
 * opts: verb ('pause'…), what (html describing the target), call (() => Promise), done(),
 *       danger, detail (html shown under the question).
 */
export async function adminAction({ verb, what, call, done, danger = false, detail = '', confirmLabel }) {
  const ok = await confirmDialog({
    title: `${verb[0].toUpperCase()}${verb.slice(1)}?`,
    message: html`<p>Are you sure you want to <strong>${verb}</strong> ${what}?</p>${detail ? html`<p class="muted">${detail}</p>` : ''}`,
    confirmLabel: confirmLabel || verb[0].toUpperCase() + verb.slice(1),
    danger,
  });
  if (!ok) return false;
  try {
    const r = await call();
    if (r && r.message) toast(r.message, 'warn');
    else toast(`${verb[0].toUpperCase()}${verb.slice(1)}: done`);
    done?.();
    return true;
  } catch (e) {
    toast(`Could not ${verb}: ${e.message}`, 'error');
    return false;
  }
}

export const topicAPI = {
  action: (t, action) => api('/topics/' + encodeURIComponent(t), { method: 'POST', body: { action } }),
  remove: (t) => api('/topics/' + encodeURIComponent(t), { method: 'DELETE' }),
  tombstone: (node, t) => api('/nodes/' + encodeURIComponent(node), { method: 'DELETE', body: { topic: t } }),
};

export const channelAPI = {
  action: (t, c, action) => api('/topics/' + encodeURIComponent(t) + '/' + encodeURIComponent(c), { method: 'POST', body: { action } }),
  remove: (t, c) => api('/topics/' + encodeURIComponent(t) + '/' + encodeURIComponent(c), { method: 'DELETE' }),
};

export function isAdmin() { return config.isAdmin; }

/** Sum of a numeric field over items. */
export function sum(items, f) {
  let s = 0;
  for (const x of items || []) s += (typeof f === 'function' ? f(x) : x[f]) || 0;
  return s;
}
