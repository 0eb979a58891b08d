// Channel page (/topics/<topic>/<channel>): per-nsqd rows with a total, delivery breakdown when
// the topology experiment reports it, e2e latency, admin actions and the consumer connections.
import { api, warnings as splitWarnings } from './api.js';
import { pagePath } from './config.js';
import { html } from './html.js';
import { commafy, duration, rate } from './format.js';
import { Page } from './page.js';
import { card, label, notice } from './ui.js';
import { currentRate, rates, record, values } from './series.js';
import { sparkline } from './spark.js';
import { graphiteSection } from './graphite.js';
import {
  adminAction, channelAPI, e2eCells, e2eHeaders, e2eQuantiles, hostCell, isAdmin, pausedLabel, topicHref,
} from './common.js';

export class ChannelPage extends Page {
  get topic() { return this.params[0]; }
  get channel() { return this.params[1]; }

  title() { return `Channel ${this.topic} / ${this.channel}`; }

  heading() {
    return html`<span class="kind">Channel</span> ${this.channel}${this.data?.paused ? label('paused', 'paused') : ''}`;
  }

  crumbs() { return [['Streams', pagePath('/')], [this.topic, topicHref(this.topic)]]; }

  async fetchData(signal) {
    const path = '/topics/' + encodeURIComponent(this.topic) + '/' + encodeURIComponent(this.channel);
    let d;
    try {
      d = await api(path, { signal });
    } catch (e) {
      // the reference nsqadmin answers 500 for a channel that does not exist
      if (e.status === 500 || e.status === 404) {
        e.message = `Channel ${this.channel} was not found on any nsqd producing topic ${this.topic} (${e.message})`;
      }
      throw e;
    }
    const now = Date.now();
    const key = `channel:${this.topic}/${this.channel}`;
    if (d && d.nodes && d.nodes.length) {
      record(key, {
        depth: d.depth, in_flight_count: d.in_flight_count, message_count: d.message_count,
        requeue_count: d.requeue_count, timeout_count: d.timeout_count, clients: d.client_count,
      }, now);
      for (const n of d.nodes) record(`${key}@${n.node}`, { depth: n.depth, message_count: n.message_count }, now);
    }
    return d || {};
  }

  warnings() { return splitWarnings(this.data?.message); }

  actions() {
    const d = this.data;
    if (!isAdmin() || !d.nodes || !d.nodes.length) return '';
    return html`<div class="btn-group" data-testid="channel-actions">
      ${d.paused
        ? html`<button class="btn btn-primary" data-action="unpause">Unpause Channel</button>`
        : html`<button class="btn" data-action="pause">Pause Channel</button>`}
      <button class="btn btn-warn" data-action="empty">Empty Queue</button>
      <button class="btn btn-danger" data-action="delete">Delete Channel</button>
    </div>`;
  }

  onAction(name) {
    const { topic: t, channel: c } = this;
    const what = html`channel <em>${c}</em> of topic <em>${t}</em>`;
    const refresh = () => this.app.refreshNow();
    switch (name) {
      case 'pause':
        adminAction({ verb: 'pause', what, detail: 'Consumers stop receiving messages; messages keep queueing in the channel.', call: () => channelAPI.action(t, c, 'pause'), done: refresh });
        return true;
      case 'unpause':
        adminAction({ verb: 'unpause', what, call: () => channelAPI.action(t, c, 'unpause'), done: refresh });
        return true;
      case 'empty':
        adminAction({ verb: 'empty', what, danger: true, detail: 'Every message queued in this channel (memory and disk) on every nsqd is dropped. Messages in flight are not affected.', call: () => channelAPI.action(t, c, 'empty'), done: refresh });
        return true;
      case 'delete':
        adminAction({ verb: 'delete', what, danger: true, detail: 'The channel and its queued messages are deleted on every nsqd; connected consumers are disconnected.', call: () => channelAPI.remove(t, c), done: () => this.app.navigate(topicHref(t)) });
        return true;
      default:
        return false;
    }
  }

  view() {
    const d = this.data;
    const nodes = d.nodes || [];
    const key = `channel:${this.topic}/${this.channel}`;
    if (!nodes.length) {
      return notice('No producers exist for this topic/channel.', html`See <a href="${pagePath('/lookup')}">Lookup</a> for more information.`);
    }
    const qs = e2eQuantiles(d.e2e_processing_latency);
    const delivery = d.delivery_msg_count > 0;
    const clients = (d.clients || []).slice();
    const r = currentRate(key);
    return html`
      <div class="cards cards-4">
        ${card('Depth', commafy(d.depth), { sub: `${commafy(d.memory_depth)} memory + ${commafy(d.backend_depth)} disk`, chart: sparkline(values(key, 'depth'), { w: 220, h: 34, kind: 'depth', stretch: true }), testid: 'card-depth' })}
        ${card('In flight', commafy(d.in_flight_count), { sub: `${commafy(d.deferred_count)} deferred`, chart: sparkline(values(key, 'in_flight_count'), { w: 220, h: 34, kind: 'depth', stretch: true }), testid: 'card-inflight' })}
        ${card('Delivery rate', html`${rate(r)}<span class="card-of"> msg/s</span>`, { sub: `${commafy(d.message_count)} messages`, chart: sparkline(rates(key), { w: 220, h: 34, stretch: true }), testid: 'card-rate' })}
        ${card('Consumers', commafy(d.client_count), { sub: `${commafy(d.requeue_count)} requeued · ${commafy(d.timeout_count)} timed out` })}
      </div>
      ${graphiteSection(this.topic, this.channel, [['depth', 'Depth'], ['in_flight_count', 'In flight'],
    ['deferred_count', 'Deferred'], ['message_count', 'Delivery rate (msg/s)']])}

      <section class="section">
        <h2 class="section-title">Channel message queue</h2>
        <div class="table-wrap"><table class="grid" data-testid="channel-nodes">
          <thead><tr>
            <th class="text">nsqd host</th><th class="num">Depth</th><th class="num">Memory + Disk</th>
            <th class="num">In-Flight</th><th class="num">Deferred</th><th class="num">Requeued</th>
            <th class="num">Timed Out</th><th class="num">Messages</th><th class="num">Rate</th><th class="num">Connections</th>
            ${delivery ? html`<th class="text">Delivery</th>` : ''}
            ${e2eHeaders(qs)}
          </tr></thead>
          <tbody>${nodes.map((n) => this.row(n, hostCell(n.node, n.hostname), `${key}@${n.node}`, qs, delivery))}</tbody>
          <tfoot>${this.row(d, 'Total', key, qs, delivery, '*')}</tfoot>
        </table></div>
      </section>

      <section class="section">
        <h2 class="section-title">Client connections <span class="count">${clients.length}</span></h2>
        ${clients.length ? this.clientsTable(clients) : notice('No clients connected to this channel.')}
      </section>`;
  }

  row(n, host, key, qs, delivery, nodeName) {
    return html`<tr data-node="${nodeName || n.node}">
      <td class="text">${host}${nodeName ? '' : pausedLabel(n.paused)}</td>
      <td class="num ${n.depth ? 'hot' : ''}" data-field="depth">${commafy(n.depth)}</td>
      <td class="num" data-field="memory_backend">${commafy(n.memory_depth)} + ${commafy(n.backend_depth)}</td>
      <td class="num" data-field="in_flight_count">${commafy(n.in_flight_count)}</td>
      <td class="num" data-field="deferred_count">${commafy(n.deferred_count)}</td>
      <td class="num" data-field="requeue_count">${commafy(n.requeue_count)}</td>
      <td class="num" data-field="timeout_count">${commafy(n.timeout_count)}</td>
      <td class="num" data-field="message_count">${commafy(n.message_count)}</td>
      <td class="num rate-cell"><span class="rate-val">${rate(currentRate(key))}</span>${sparkline(rates(key), { w: 72, h: 20 })}</td>
      <td class="num" data-field="client_count">${commafy(n.client_count)}</td>
      ${delivery ? html`<td class="text">${deliveryBar(n)}</td>` : ''}
      ${e2eCells(n.e2e_processing_latency, qs)}
    </tr>`;
  }

  clientsTable(clients) {
    return html`<div class="table-wrap"><table class="grid clients" data-testid="channel-clients">
      <thead><tr>
        <th class="text">Client</th><th class="text">Remote address</th><th class="text">User-Agent</th>
        <th class="text">Attributes</th><th class="text">nsqd host</th>
        <th class="num">Ready</th><th class="num">In-Flight</th><th class="num">Finished</th>
        <th class="num">Requeued</th><th class="num">Messages</th><th class="num">Connected</th>
      </tr></thead>
      <tbody>${clients.map((c) => clientRow(c))}</tbody>
    </table></div>`;
  }
}

/** One consumer connection row (also used by the node page). */
export function clientRow(c, { showNode = true } = {}) {
  const port = String(c.remote_address || '').split(':').pop();
  const hostname = c.hostname || '';
  const short = hostname.split('.')[0].toLowerCase();
  const id = c.client_id || '';
  const showId = id && id.toLowerCase() !== short && id.toLowerCase() !== hostname.toLowerCase();
  const connected = c.connected != null ? c.connected : (c.connect_ts ? (Date.now() / 1000 - c.connect_ts) * 1e9 : null);
  return html`<tr data-client="${c.remote_address}" data-client-id="${id}">
    <td class="text"><span class="mono">${hostname}:${port}</span>${showId ? html`<div class="muted small">id ${id}</div>` : ''}</td>
    <td class="text mono" data-field="remote_address">${c.remote_address}</td>
    <td class="text ua" data-field="user_agent">${c.user_agent || html`<span class="muted">–</span>`}</td>
    <td class="text attrs">${clientAttrs(c)}</td>
    ${showNode ? html`<td class="text">${c.node ? hostCell(c.node) : ''}</td>` : ''}
    <td class="num" data-field="ready_count">${commafy(c.ready_count)}</td>
    <td class="num" data-field="in_flight_count">${commafy(c.in_flight_count)}</td>
    <td class="num" data-field="finish_count">${commafy(c.finish_count)}</td>
    <td class="num" data-field="requeue_count">${commafy(c.requeue_count)}</td>
    <td class="num" data-field="message_count">${commafy(c.message_count)}</td>
    <td class="num" data-field="connected" title="${c.connect_ts ? new Date(c.connect_ts * 1000).toLocaleString() : ''}">${duration(connected)}</td>
  </tr>`;
}

export function clientAttrs(c) {
  const out = [];
  if (c.sample_rate) out.push(label(`Sampled ${c.sample_rate}%`, 'info'));
  if (c.tls) {
    const tip = [c.tls_version, c.tls_cipher_suite, c.tls_negotiated_protocol, c.tls_negotiated_protocol ? `mutual: ${c.tls_negotiated_protocol_is_mutual}` : ''].filter(Boolean).join(' ');
    out.push(label('TLS', 'tls', tip));
  }
  if (c.deflate) out.push(label('Deflate', 'neutral'));
  if (c.snappy) out.push(label('Snappy', 'neutral'));
  if (c.authed) {
    const l = label(c.auth_identity ? `Authed: ${c.auth_identity}` : 'Authed', 'ok', c.auth_identity ? `identity ${c.auth_identity}` : 'authenticated');
    out.push(c.auth_identity_url ? html`<a href="${c.auth_identity_url}" target="_blank" rel="noopener">${l}</a>` : l);
  }
  if (c.topology_region) out.push(label(`region ${c.topology_region}`, 'neutral'));
  if (c.topology_zone) out.push(label(`zone ${c.topology_zone}`, 'neutral'));
  return out.length ? out : html`<span class="muted">–</span>`;
}

function deliveryBar(n) {
  const total = n.delivery_msg_count || 0;
  if (!total) return html`<span class="muted">–</span>`;
  const parts = [['zone', n.zone_local_msg_count || 0], ['region', n.region_local_msg_count || 0], ['global', n.global_msg_count || 0]];
  return html`<div class="delivery" title="${parts.map(([k, v]) => `${k}-local ${commafy(v)}`).join(', ')}">
    ${parts.filter(([, v]) => v > 0).map(([k, v]) => html`<span class="seg seg-${k}" style="width:${((v / total) * 100).toFixed(1)}%"></span>`)}</div>`;
}
