// Node page (/nodes/<broadcast_address:http_port>): one nsqd's topics, their channels and the
// consumers connected to it, with totals, rates and a per-topic tombstone action.
import { api, warnings as splitWarnings } from './api.js';
import { pagePath } from './config.js';
import { html } from './html.js';
import { commafy, rate } from './format.js';
import { Page } from './page.js';
import { card, notice } from './ui.js';
import { currentRate, rates, record, values } from './series.js';
import { sparkline } from './spark.js';
import { adminAction, channelHref, isAdmin, pausedLabel, sum, topicAPI, topicHref } from './common.js';
import { clientRow } from './page-channel.js';

export class NodePage extends Page {
  constructor(...a) {
    super(...a);
    this.expanded = new Set();
    this.autoExpanded = false;
  }

  get node() { return this.params[0]; }

  title() { return `Node ${this.node}`; }
  heading() { return html`<span class="kind">nsqd</span> <span class="mono">${this.node}</span>`; }
  crumbs() { return [['Nodes', pagePath('/nodes')]]; }

  async fetchData(signal) {
    let d;
    try {
      d = await api('/nodes/' + encodeURIComponent(this.node), { signal });
    } catch (e) {
      if (e.status === 404) e.message = `nsqd ${this.node} is not known to nsqadmin (NODE_NOT_FOUND). Pick a node on the Nodes page.`;
      throw e;
    }
    const now = Date.now();
    const topics = d.topics || [];
    let depth = 0;
    for (const t of topics) {
      const chDepth = sum(t.channels, 'depth');
      depth += t.depth + chDepth;
      record(`topic:${t.topic_name}@${this.node}`, { depth: t.depth, message_count: t.message_count }, now);
    }
    record(`node:${this.node}`, { depth, message_count: d.total_messages, clients: d.total_clients }, now);
    if (!this.autoExpanded) {
      this.autoExpanded = true;
      if (topics.length <= 8) for (const t of topics) this.expanded.add(t.topic_name);
    }
    return d;
  }

  warnings() { return splitWarnings(this.data?.message); }

  onAction(name, el) {
    if (name === 'toggle') {
      const t = el.dataset.topic;
      if (this.expanded.has(t)) this.expanded.delete(t);
      else this.expanded.add(t);
      this.render();
      return true;
    }
    if (name === 'expand-all' || name === 'collapse-all') {
      if (name === 'expand-all') for (const t of this.data.topics || []) this.expanded.add(t.topic_name);
      else this.expanded.clear();
      this.render();
      return true;
    }
    if (name === 'tombstone') {
      const t = el.dataset.topic;
      adminAction({
        verb: 'tombstone', what: html`topic <em>${t}</em> on <em>${this.node}</em>`, danger: true,
        detail: 'nsqlookupd stops handing out this node for the topic and the topic is deleted on this node.',
        call: () => topicAPI.tombstone(this.node, t), done: () => this.app.refreshNow(),
      });
      return true;
    }
    return false;
  }

  view() {
    const d = this.data;
    const topics = (d.topics || []).slice().sort((a, b) => (a.topic_name < b.topic_name ? -1 : 1));
    const key = `node:${this.node}`;
    const channels = sum(topics, (t) => (t.channels || []).length);
    const depth = sum(topics, (t) => t.depth + sum(t.channels, 'depth'));
    const cards = html`<div class="cards cards-4">
      ${card('Topics', commafy(topics.length), { sub: `${commafy(channels)} channels`, testid: 'card-topics' })}
      ${card('Messages', commafy(d.total_messages), { sub: html`${rate(currentRate(key))} msg/s`, chart: sparkline(rates(key), { w: 220, h: 34, stretch: true }), testid: 'card-messages' })}
      ${card('Queued', commafy(depth), { sub: 'topics + channels', chart: sparkline(values(key, 'depth'), { w: 220, h: 34, kind: 'depth', stretch: true }), testid: 'card-depth' })}
      ${card('Clients', commafy(d.total_clients), { sub: 'consumer connections', chart: sparkline(values(key, 'clients'), { w: 220, h: 34, kind: 'depth', stretch: true }), testid: 'card-clients' })}
    </div>`;
    if (!topics.length) return html`${cards}${notice('No topics exist on this node.')}`;
    const admin = isAdmin();
    return html`${cards}
      <section class="section">
        <div class="section-head"><h2 class="section-title">Topics</h2>
          <div class="btn-group"><button class="btn btn-sm" data-action="expand-all">Expand all</button><button class="btn btn-sm" data-action="collapse-all">Collapse all</button></div></div>
        <div class="table-wrap"><table class="grid node-table" data-testid="node-topics">
          <thead><tr>
            <th class="text">Topic / channel</th><th class="num">Depth</th><th class="num">Memory + Disk</th>
            <th class="num">In-Flight</th><th class="num">Deferred</th><th class="num">Requeued</th><th class="num">Timed Out</th>
            <th class="num">Messages</th><th class="num">Rate</th><th class="num">Channels / Clients</th>${admin ? html`<th class="act"></th>` : ''}
          </tr></thead>
          ${topics.map((t) => this.topicGroup(t, admin))}
        </table></div>
      </section>`;
  }

  topicGroup(t, admin) {
    const open = this.expanded.has(t.topic_name);
    const chans = (t.channels || []).slice().sort((a, b) => (a.channel_name < b.channel_name ? -1 : 1));
    const key = `topic:${t.topic_name}@${this.node}`;
    const cols = admin ? 11 : 10;
    return html`<tbody class="group ${open ? 'open' : ''}" data-topic="${t.topic_name}">
      <tr class="group-row">
        <td class="text"><button class="twisty" data-action="toggle" data-topic="${t.topic_name}" aria-expanded="${open}" title="${open ? 'Hide' : 'Show'} channels">${open ? '▾' : '▸'}</button>
          <a href="${topicHref(t.topic_name)}" class="strong">${t.topic_name}</a>${pausedLabel(t.paused)}</td>
        <td class="num" data-field="depth">${commafy(t.depth)}</td>
        <td class="num">${commafy(t.memory_depth)} + ${commafy(t.backend_depth)}</td>
        <td class="num"></td><td class="num"></td><td class="num"></td><td class="num"></td>
        <td class="num" data-field="message_count">${commafy(t.message_count)}</td>
        <td class="num rate-cell"><span class="rate-val">${rate(currentRate(key))}</span>${sparkline(rates(key), { w: 72, h: 20 })}</td>
        <td class="num" data-field="channels">${commafy(chans.length)}</td>
        ${admin ? html`<td class="act"><button class="btn btn-xs btn-ghost-danger" data-action="tombstone" data-topic="${t.topic_name}" title="Tombstone ${t.topic_name} on this node">Tombstone</button></td>` : ''}
      </tr>
      ${open ? (chans.length ? chans.map((c) => html`<tr class="sub-row" data-channel="${c.channel_name}">
          <td class="text indent"><a href="${channelHref(t.topic_name, c.channel_name)}">${c.channel_name}</a>${pausedLabel(c.paused)}</td>
          <td class="num" data-field="depth">${commafy(c.depth)}</td>
          <td class="num">${commafy(c.memory_depth)} + ${commafy(c.backend_depth)}</td>
          <td class="num" data-field="in_flight_count">${commafy(c.in_flight_count)}</td>
          <td class="num" data-field="deferred_count">${commafy(c.deferred_count)}</td>
          <td class="num" data-field="requeue_count">${commafy(c.requeue_count)}</td>
          <td class="num" data-field="timeout_count">${commafy(c.timeout_count)}</td>
          <td class="num" data-field="message_count">${commafy(c.message_count)}</td>
          <td class="num"></td>
          <td class="num" data-field="client_count">${commafy((c.clients || []).length)}</td>
          ${admin ? html`<td class="act"></td>` : ''}
        </tr>
        ${(c.clients || []).length ? html`<tr class="clients-row"><td colspan="${cols}"><div class="nested">
          <table class="grid grid-nested clients"><thead><tr>
            <th class="text">Client</th><th class="text">Remote address</th><th class="text">User-Agent</th><th class="text">Attributes</th>
            <th class="num">Ready</th><th class="num">In-Flight</th><th class="num">Finished</th><th class="num">Requeued</th><th class="num">Messages</th><th class="num">Connected</th>
          </tr></thead><tbody>${c.clients.map((cl) => clientRow(cl, { showNode: false }))}</tbody></table></div></td></tr>` : ''}`)
        : html`<tr class="sub-row"><td class="text indent muted" colspan="${cols}">No channels exist for this topic.</td></tr>`) : ''}
    </tbody>`;
  }
}
