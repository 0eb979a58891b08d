// Topic page (/topics/<topic>): per-nsqd queue rows with a total, the channels with their
// counters, e2e latency percentiles when nsqd has them, and the topic's admin actions.
import { api, warnings as splitWarnings } from './api.js';
import { pagePath } from './config.js';
import { html } from './html.js';
import { commafy, compact, rate } from './format.js';
import { Page } from './page.js';
import { card, notice, label } from './ui.js';
import { currentRate, rates, record, values } from './series.js';
import { sparkline } from './spark.js';
import { graphiteSection } from './graphite.js';
import {
  adminAction, channelHref, e2eCells, e2eHeaders, e2eQuantiles, hostCell, isAdmin, pausedLabel, sum, topicAPI,
} from './common.js';

// nsqd -max-bytes-per-topic (ours): the topic's disk use against its limit, summed over the
// nsqd nodes that set one; absent (nothing shown) when none does, as with the reference.
function diskLimit(d) {
  if (d.max_disk_bytes === undefined) return '';
  const pct = d.max_disk_bytes > 0 ? Math.round((100 * d.disk_bytes) / d.max_disk_bytes) : 0;
  return html`<p class="disk-limit" data-testid="disk-limit">Disk: ${commafy(d.disk_bytes)} of ${commafy(d.max_disk_bytes)} bytes (${pct}%)
    ${d.disk_full ? label('disk full', 'warn', 'Publishes that need disk are refused until consumers free space') : ''}
    · ${commafy(d.disk_limit_refused_count)} publishes refused</p>`;
}

export class TopicPage extends Page {
  get topic() { return this.params[0]; }

  title() { return `Topic ${this.topic}`; }

  heading() {
    return html`<span class="kind">Topic</span> ${this.topic}${this.data?.paused ? label('paused', 'paused') : ''}`;
  }

  crumbs() { return [['Streams', pagePath('/')]]; }

  async fetchData(signal) {
    const d = await api('/topics/' + encodeURIComponent(this.topic), { signal });
    const now = Date.now();
    const t = this.topic;
    if (d.nodes && d.nodes.length) {
      record(`topic:${t}`, { depth: d.depth, channel_depth: sum(d.channels, 'depth'), message_count: d.message_count }, now);
      for (const n of d.nodes) record(`topic:${t}@${n.node}`, { depth: n.depth, message_count: n.message_count }, now);
      for (const c of d.channels || []) {
        record(`channel:${t}/${c.channel_name}`, {
          depth: c.depth, in_flight_count: c.in_flight_count, message_count: c.message_count,
          requeue_count: c.requeue_count, timeout_count: c.timeout_count, clients: c.client_count,
        }, now);
      }
    }
    return d;
  }

  warnings() { return splitWarnings(this.data?.message); }

  actions() {
    const d = this.data;
    if (!isAdmin() || !d.nodes || !d.nodes.length) return '';
    return html`<div class="btn-group" data-testid="topic-actions">
      ${d.paused
        ? html`<button class="btn btn-primary" data-action="unpause">Unpause Topic</button>`
        : html`<button class="btn" data-action="pause">Pause Topic</button>`}
      <button class="btn btn-warn" data-action="empty">Empty Queue</button>
      <button class="btn btn-danger" data-action="delete">Delete Topic</button>
    </div>`;
  }

  onAction(name, el) {
    const t = this.topic;
    const what = html`topic <em>${t}</em>`;
    const refresh = () => this.app.refreshNow();
    switch (name) {
      case 'pause':
        adminAction({ verb: 'pause', what, detail: 'Messages stay queued in the topic and are not copied to its channels until it is unpaused.', call: () => topicAPI.action(t, 'pause'), done: refresh });
        return true;
      case 'unpause':
        adminAction({ verb: 'unpause', what, call: () => topicAPI.action(t, 'unpause'), done: refresh });
        return true;
      case 'empty':
        adminAction({ verb: 'empty', what, danger: true, detail: 'Every message queued in the topic (memory and disk) on every nsqd is dropped. Channels are not affected.', call: () => topicAPI.action(t, 'empty'), done: refresh });
        return true;
      case 'delete':
        adminAction({ verb: 'delete', what, danger: true, detail: 'The topic, its channels and all their messages are deleted on every nsqd and unregistered from nsqlookupd.', call: () => topicAPI.remove(t), done: () => this.app.navigate(pagePath('/')) });
        return true;
      case 'tombstone': {
        const node = el.dataset.node;
        adminAction({
          verb: 'tombstone', what: html`topic <em>${t}</em> on <em>${node}</em>`, danger: true,
          detail: 'nsqlookupd stops handing out this node for the topic and the topic is deleted on that node.',
          call: () => topicAPI.tombstone(node, t), done: refresh,
        });
        return true;
      }
      default:
        return false;
    }
  }

  view() {
    const d = this.data;
    const t = this.topic;
    const nodes = d.nodes || [];
    const channels = (d.channels || []).slice().sort((a, b) => (a.channel_name < b.channel_name ? -1 : 1));
    const qs = e2eQuantiles(d.e2e_processing_latency);
    const admin = isAdmin();
    if (!nodes.length) {
      return html`${notice('No producers exist for this topic.', html`No nsqd currently has topic <strong>${t}</strong>. See <a href="${pagePath('/lookup')}">Lookup</a> for topics known only to nsqlookupd.`)}
        ${channels.length ? '' : ''}`;
    }
    const r = currentRate(`topic:${t}`);
    const clients = sum(channels, 'client_count');
    return html`
      <div class="cards cards-4">
        ${card('Depth', commafy(d.depth), { sub: `${commafy(d.memory_depth)} memory + ${commafy(d.backend_depth)} disk`, chart: sparkline(values(`topic:${t}`, 'depth'), { w: 220, h: 34, kind: 'depth', stretch: true }), testid: 'card-depth' })}
        ${card('Publish rate', html`${rate(r)}<span class="card-of"> msg/s</span>`, { sub: `${commafy(d.message_count)} messages`, chart: sparkline(rates(`topic:${t}`), { w: 220, h: 34, stretch: true }), testid: 'card-rate' })}
        ${card('Channel depth', compact(sum(channels, 'depth')), { sub: `${commafy(sum(channels, 'in_flight_count'))} in flight`, chart: sparkline(values(`topic:${t}`, 'channel_depth'), { w: 220, h: 34, kind: 'depth', stretch: true }) })}
        ${card('Channels', commafy(channels.length), { sub: `${commafy(clients)} consumer connection${clients === 1 ? '' : 's'} · ${nodes.length} nsqd` })}
      </div>
      ${diskLimit(d)}
      ${graphiteSection(t, '', [['depth', 'Depth'], ['message_count', 'Publish rate (msg/s)']])}

      <section class="section">
        <h2 class="section-title">Topic message queue</h2>
        <div class="table-wrap"><table class="grid" data-testid="topic-nodes">
          <thead><tr>
            <th class="text">nsqd host</th><th class="num">Depth</th><th class="num">Memory + Disk</th>
            <th class="num">Messages</th><th class="num">Rate</th><th class="num">Channels</th>
            ${e2eHeaders(qs)}${admin ? html`<th class="act"></th>` : ''}
          </tr></thead>
          <tbody>
            ${nodes.map((n) => html`<tr data-node="${n.node}">
              <td class="text">${hostCell(n.node, n.hostname)}${pausedLabel(n.paused)}</td>
              <td class="num" data-field="depth">${commafy(n.depth)}</td>
              <td class="num" data-field="memory_backend">${commafy(n.memory_depth)} + ${commafy(n.backend_depth)}</td>
              <td class="num" data-field="message_count">${commafy(n.message_count)}</td>
              <td class="num rate-cell"><span class="rate-val">${rate(currentRate(`topic:${t}@${n.node}`))}</span>${sparkline(rates(`topic:${t}@${n.node}`), { w: 72, h: 20 })}</td>
              <td class="num" data-field="channels">${commafy((n.channels || []).length)}</td>
              ${e2eCells(n.e2e_processing_latency, qs)}
              ${admin ? html`<td class="act"><button class="btn btn-xs btn-ghost-danger" data-action="tombstone" data-node="${n.node}" title="Tombstone topic ${t} on ${n.node}">Tombstone</button></td>` : ''}
            </tr>`)}
          </tbody>
          <tfoot><tr data-node="*">
            <td class="text">Total</td>
            <td class="num" data-field="depth">${commafy(d.depth)}</td>
            <td class="num" data-field="memory_backend">${commafy(d.memory_depth)} + ${commafy(d.backend_depth)}</td>
            <td class="num" data-field="message_count">${commafy(d.message_count)}</td>
            <td class="num rate-cell"><span class="rate-val">${rate(r)}</span>${sparkline(rates(`topic:${t}`), { w: 72, h: 20 })}</td>
            <td class="num" data-field="channels">${commafy(channels.length)}</td>
            ${e2eCells(d.e2e_processing_latency, qs)}
            ${admin ? html`<td class="act"></td>` : ''}
          </tr></tfoot>
        </table></div>
      </section>

      <section class="section">
        <h2 class="section-title">Channels</h2>
        ${channels.length ? html`<div class="table-wrap"><table class="grid" data-testid="topic-channels">
          <thead><tr>
            <th class="text">Channel</th><th class="num">Depth</th><th class="num">Memory + Disk</th>
            <th class="num">In-Flight</th><th class="num">Deferred</th><th class="num">Requeued</th>
            <th class="num">Timed Out</th><th class="num">Messages</th><th class="num">Rate</th><th class="num">Connections</th>
            ${e2eHeaders(qs)}
          </tr></thead>
          <tbody>
            ${channels.map((c) => {
              const key = `channel:${t}/${c.channel_name}`;
              return html`<tr data-channel="${c.channel_name}">
                <td class="text"><a href="${channelHref(t, c.channel_name)}">${c.channel_name}</a>${pausedLabel(c.paused)}</td>
                <td class="num ${c.depth ? 'hot' : ''}" data-field="depth">${commafy(c.depth)}</td>
                <td class="num" data-field="memory_backend">${commafy(c.memory_depth)} + ${commafy(c.backend_depth)}</td>
                <td class="num" data-field="in_flight_count">${commafy(c.in_flight_count)}</td>
                <td class="num" data-field="deferred_count">${commafy(c.deferred_count)}</td>
                <td class="num" data-field="requeue_count">${commafy(c.requeue_count)}</td>
                <td class="num" data-field="timeout_count">${commafy(c.timeout_count)}</td>
                <td class="num" data-field="message_count">${commafy(c.message_count)}</td>
                <td class="num rate-cell"><span class="rate-val">${rate(currentRate(key))}</span>${sparkline(rates(key), { w: 72, h: 20 })}</td>
                <td class="num" data-field="client_count">${commafy(c.client_count)}</td>
                ${e2eCells(c.e2e_processing_latency, qs)}
              </tr>`;
            })}
          </tbody>
        </table></div>` : notice('No channels exist for this topic.', 'Messages queue in the topic until a channel is created or a consumer subscribes.')}
      </section>`;
  }
}
