// Nodes page (/nodes): every nsqd known to nsqlookupd (or given with -nsqd-http-address), with
// its lookupd connections, topics and live totals from its own statistics.
import { config } from './config.js';
import { html } from './html.js';
import { commafy, rate } from './format.js';
import { Page } from './page.js';
import { card, label, notice } from './ui.js';
import { currentRate, rates, values } from './series.js';
import { sparkline } from './spark.js';
import { fetchCluster } from './cluster.js';
import { nodeHref, topicHref } from './common.js';

const MAX_TOPIC_LABELS = 12;

export class NodesPage extends Page {
  title() { return 'Nodes'; }
  heading() { return html`nsqd nodes${this.data ? html` <span class="count" data-testid="node-count">${this.data.nodes.length}</span>` : ''}`; }

  async fetchData(signal) { return fetchCluster(signal); }

  warnings() { return this.data?.warnings || []; }

  view() {
    const c = this.data;
    const nodes = c.nodes.slice().sort((a, b) => (a.node.hostname + a.addr < b.node.hostname + b.addr ? -1 : 1));
    if (!nodes.length) {
      return notice('No nsqd nodes found', config.nsqlookupd.length ? 'No nsqd is registered with the configured nsqlookupd.' : 'nsqadmin is configured with no nsqd.');
    }
    const nLookupd = config.nsqlookupd.length;
    const hasTopo = nodes.some((n) => n.node.topology_region || n.node.topology_zone);
    const r = currentRate('cluster');
    return html`
      <div class="cards cards-4">
        ${card('Reachable', html`${c.up}<span class="card-of"> / ${nodes.length}</span>`, { sub: c.up === nodes.length ? 'all nodes answer' : html`<span class="bad">${nodes.length - c.up} unreachable</span>`, kind: c.up === nodes.length ? '' : 'card-bad', testid: 'card-reachable' })}
        ${card('Queued', commafy(c.depth), { sub: 'topics + channels', chart: sparkline(values('cluster', 'depth'), { w: 220, h: 34, kind: 'depth', stretch: true }) })}
        ${card('Publish rate', html`${rate(r)}<span class="card-of"> msg/s</span>`, { sub: `${commafy(c.messages)} messages`, chart: sparkline(rates('cluster'), { w: 220, h: 34, stretch: true }) })}
        ${card('Consumers', commafy(c.clients), { sub: 'connections on all channels', chart: sparkline(values('cluster', 'clients'), { w: 220, h: 34, kind: 'depth', stretch: true }) })}
      </div>
      <div class="table-wrap"><table class="grid" data-testid="nodes-table">
        <thead><tr>
          <th class="text">Hostname</th><th class="text">Broadcast address</th><th class="num">TCP</th><th class="num">HTTP</th>
          <th class="text">Version</th>${hasTopo ? html`<th class="text">Region / Zone</th>` : ''}
          ${nLookupd ? html`<th class="num" title="nsqlookupd instances this node is registered with">Lookupd conns.</th>` : ''}
          <th class="num">Depth</th><th class="num">Messages</th><th class="num">Rate</th><th class="num">Clients</th>
          <th class="text">Topics</th>
        </tr></thead>
        <tbody>${nodes.map((n) => this.row(n, nLookupd, hasTopo))}</tbody>
      </table></div>`;
  }

  row(info, nLookupd, hasTopo) {
    const n = info.node;
    const topics = (n.topics || []).slice().sort((a, b) => (a.topic < b.topic ? -1 : 1));
    const ra = n.remote_addresses || [];
    const key = `node:${info.addr}`;
    const cls = [n.out_of_date ? 'row-warn' : '', info.ok ? '' : 'row-bad'].join(' ');
    return html`<tr class="${cls}" data-node="${info.addr}">
      <td class="text">${n.hostname}${n.out_of_date ? label('out of date', 'warn', 'older version than other nodes') : ''}${info.ok ? '' : html`<div class="bad small" title="${info.error}">unreachable</div>`}</td>
      <td class="text"><a href="${nodeHref(info.addr)}" class="mono">${n.broadcast_address}</a></td>
      <td class="num mono" data-field="tcp_port">${n.tcp_port}</td>
      <td class="num mono" data-field="http_port">${n.http_port}</td>
      <td class="text" data-field="version">${n.version}</td>
      ${hasTopo ? html`<td class="text">${[n.topology_region, n.topology_zone].filter(Boolean).join(' / ') || '–'}</td>` : ''}
      ${nLookupd ? html`<td class="num"><details data-keep="conns-${info.addr}" class="conns ${ra.length !== nLookupd ? 'warn' : ''}"><summary title="${ra.length !== nLookupd ? `registered with ${ra.length} of ${nLookupd} nsqlookupd` : 'registered with every nsqlookupd'}">${ra.length}</summary><div class="conns-list">${ra.map((a) => html`<div class="mono small">${a}</div>`)}</div></details></td>` : ''}
      <td class="num" data-field="depth">${info.ok ? commafy(info.depth) : '–'}</td>
      <td class="num" data-field="message_count">${info.ok ? commafy(info.messages) : '–'}</td>
      <td class="num rate-cell"><span class="rate-val">${info.ok ? rate(currentRate(key)) : '–'}</span>${sparkline(rates(key), { w: 72, h: 20 })}</td>
      <td class="num" data-field="clients">${info.ok ? commafy(info.clients) : '–'}</td>
      <td class="text topics-cell"><span class="badge" data-field="topics">${topics.length}</span>
        ${topics.slice(0, MAX_TOPIC_LABELS).map((t) => html`<a href="${topicHref(t.topic)}" class="label ${t.tombstoned ? 'label-warn' : 'label-topic'}" ${t.tombstoned ? html`title="this topic is currently tombstoned on this node"` : ''}>${t.topic}</a>`)}
        ${topics.length > MAX_TOPIC_LABELS ? html`<a href="${nodeHref(info.addr)}" class="muted small">+${topics.length - MAX_TOPIC_LABELS} more</a>` : ''}
      </td>
    </tr>`;
  }
}
