// Streams page (/ and /topics): every topic with live depth, messages and rate.
//
// Built to stay fast at thousands of topics: the table is windowed (only rows in view are in
// the DOM, fixed row height), filtering and sorting work on plain arrays, and a poll only
// re-renders the visible window. Names come first (GET /api/topics), numbers follow
// (cluster.js), so the list shows up before the per-node statistics arrive.
import { api, warnings as splitWarnings } from './api.js';
import { pagePath } from './config.js';
import { html, setHTML } from './html.js';
import { commafy, rate, compact } from './format.js';
import { Page } from './page.js';
import { banners, card, label, notice } from './ui.js';
import { currentRate, rates, values } from './series.js';
import { sparkline } from './spark.js';
import { fetchCluster } from './cluster.js';
import { filterSortRows } from './aggregate.js';

const ROW_H = 40;
const OVERSCAN = 12;

const COLUMNS = [
  ['name', 'Topic', 'text'],
  ['nodes', 'Nodes', 'num', 'nsqd nodes that have this topic'],
  ['channels', 'Channels', 'num'],
  ['clients', 'Clients', 'num', 'consumer connections on all channels'],
  ['depth', 'Depth', 'num', 'messages queued in the topic (memory + disk)'],
  ['channelDepth', 'Channel Depth', 'num', 'messages queued in all its channels'],
  ['inFlight', 'In-Flight', 'num'],
  ['messages', 'Messages', 'num', 'messages published to the topic'],
  ['rate', 'Rate', 'num', 'messages published per second, from this page\'s sampling'],
];

export class TopicsPage extends Page {
  constructor(el, params, app) {
    super(el, params, app);
    this.names = null;
    this.cluster = null;
    this.topicsMessage = '';
    this.filter = new URLSearchParams(location.search).get('q') || '';
    this.sort = { key: 'name', dir: 1 };
    this.rows = [];
    this.built = false;
    this.onScroll = () => this.scheduleWindow();
    window.addEventListener('scroll', this.onScroll, { passive: true });
    window.addEventListener('resize', this.onScroll, { passive: true });
    this.onKey = (e) => {
      if (e.key === '/' && document.activeElement?.tagName !== 'INPUT') {
        e.preventDefault();
        this.el.querySelector('[data-testid="topic-filter"]')?.focus();
      }
    };
    document.addEventListener('keydown', this.onKey);
  }

  title() { return 'Streams'; }
  heading() { return 'Topics'; }

  destroy() {
    window.removeEventListener('scroll', this.onScroll);
    window.removeEventListener('resize', this.onScroll);
    document.removeEventListener('keydown', this.onKey);
    cancelAnimationFrame(this.raf);
  }

  async poll(signal) {
    try {
      const t = await api('/topics', { signal });
      this.names = t.topics || [];
      this.topicsMessage = t.message || '';
      this.error = null;
      if (!this.cluster) {
        this.data = true;
        this.rebuildRows();
        this.render();
      }
      this.cluster = await fetchCluster(signal);
      this.updatedAt = Date.now();
      this.error = null;
    } catch (e) {
      if (e.kind === 'aborted' || signal.aborted) throw e;
      this.error = e.message;
    }
    if (this.names) this.data = true;
    this.rebuildRows();
  }

  warnings() {
    return [...splitWarnings(this.topicsMessage), ...(this.cluster ? this.cluster.warnings : [])];
  }

  rebuildRows() {
    const all = new Map();
    for (const n of this.names || []) all.set(n, null);
    if (this.cluster) for (const [n, a] of this.cluster.topics) all.set(n, a);
    const rows = [];
    for (const [name, a] of all) {
      rows.push(a ? {
        name,
        nodes: a.nodes,
        channels: a.channels.size,
        clients: a.clients,
        depth: a.depth,
        channelDepth: a.channelDepth,
        inFlight: a.inFlight,
        messages: a.messages,
        rate: currentRate(`topic:${name}`),
        paused: a.paused,
        known: true,
      } : { name, known: !this.cluster ? null : false });
    }
    this.allRows = rows;
    this.applyFilterSort();
  }

  applyFilterSort() {
    this.rows = filterSortRows(this.allRows, this.filter, this.sort);
  }

  render() {
    if (!this.data) {
      super.render();
      this.built = false;
      return;
    }
    if (!this.built) {
      setHTML(this.el, html`${this.header()}
        <div class="banners"></div>
        <div class="cards cards-4" data-testid="cluster-cards"></div>
        <div class="toolbar">
          <div class="search">
            <svg viewBox="0 0 24 24" width="16" height="16" aria-hidden="true"><path d="M10.5 3a7.5 7.5 0 0 1 5.9 12.1l4.2 4.2-1.4 1.4-4.2-4.2A7.5 7.5 0 1 1 10.5 3zm0 2a5.5 5.5 0 1 0 0 11 5.5 5.5 0 0 0 0-11z" fill="currentColor"/></svg>
            <input type="search" placeholder="Filter topics…  ( / )" aria-label="Filter topics" data-testid="topic-filter" value="${this.filter}" autocomplete="off" spellcheck="false">
          </div>
          <span class="toolbar-count" data-testid="topic-count"></span>
        </div>
        <div class="table-wrap">
          <table class="grid topics-table" data-testid="topics-table" data-ready="false">
            <thead><tr>${COLUMNS.map(([key, text, type, tip]) => html`<th class="${type}" ${tip ? html`title="${tip}"` : ''}><button class="sort" data-action="sort" data-key="${key}">${text}<span class="sort-ind"></span></button></th>`)}</tr></thead>
            <tbody></tbody>
          </table>
        </div>
        <div class="empty-slot"></div>`);
      this.built = true;
      this.tbody = this.el.querySelector('tbody');
      this.table = this.el.querySelector('table');
      const input = this.el.querySelector('[data-testid="topic-filter"]');
      input.addEventListener('input', () => this.setFilter(input.value));
    }
    setHTML(this.el.querySelector('.banners'), banners({ errors: this.error ? [this.error] : [], warnings: this.warnings(), stale: !!this.error }));
    setHTML(this.el.querySelector('[data-testid="cluster-cards"]'), this.cardsView());
    for (const th of this.el.querySelectorAll('th button.sort')) {
      const on = th.dataset.key === this.sort.key;
      th.parentElement.setAttribute('aria-sort', on ? (this.sort.dir > 0 ? 'ascending' : 'descending') : 'none');
      th.querySelector('.sort-ind').textContent = on ? (this.sort.dir > 0 ? '▲' : '▼') : '';
    }
    this.table.dataset.ready = this.cluster ? 'true' : 'false';
    this.renderWindow(true);
  }

  cardsView() {
    const c = this.cluster;
    const total = this.names ? this.allRows.length : 0;
    if (!c) {
      return html`${card('Topics', commafy(total), { testid: 'card-topics' })}
        ${card('Nodes', '…')}${card('Queued', '…')}${card('Publish rate', '…')}`;
    }
    const inactive = this.allRows.filter((r) => r.known === false).length;
    const r = currentRate('cluster');
    return html`${card('Topics', commafy(total), { sub: inactive ? `${inactive} without producers` : 'all with producers', testid: 'card-topics' })}
      ${card('nsqd nodes', html`${c.up}<span class="card-of"> / ${c.nodes.length}</span>`, { sub: c.up === c.nodes.length ? `${commafy(c.clients)} consumer connections` : html`<span class="bad">${c.nodes.length - c.up} unreachable</span>`, kind: c.up === c.nodes.length ? '' : 'card-bad', testid: 'card-nodes' })}
      ${card('Queued', compact(c.depth), { sub: 'topic + channel depth', chart: sparkline(values('cluster', 'depth'), { w: 220, h: 34, kind: 'depth', stretch: true }), testid: 'card-depth' })}
      ${card('Publish rate', html`${rate(r)}<span class="card-of"> msg/s</span>`, { sub: `${commafy(c.messages)} messages`, chart: sparkline(rates('cluster'), { w: 220, h: 34, stretch: true }), testid: 'card-rate' })}`;
  }

  setFilter(v) {
    this.filter = v;
    const u = new URL(location.href);
    if (v) u.searchParams.set('q', v);
    else u.searchParams.delete('q');
    history.replaceState(null, '', u.pathname + u.search);
    this.applyFilterSort();
    this.renderWindow(true);
  }

  onAction(name, el) {
    if (name === 'sort') {
      const key = el.dataset.key;
      if (this.sort.key === key) this.sort.dir = -this.sort.dir;
      else this.sort = { key, dir: key === 'name' ? 1 : -1 };
      this.applyFilterSort();
      this.render();
      return true;
    }
    if (name === 'clear-filter') {
      const input = this.el.querySelector('[data-testid="topic-filter"]');
      input.value = '';
      this.setFilter('');
      return true;
    }
    return false;
  }

  scheduleWindow() {
    if (this.raf || !this.built) return;
    this.raf = requestAnimationFrame(() => {
      this.raf = 0;
      this.renderWindow(false);
    });
  }

  renderWindow(force) {
    if (!this.tbody) return;
    const n = this.rows.length;
    const top = this.tbody.getBoundingClientRect().top;
    const first = Math.max(0, Math.floor(-top / ROW_H) - OVERSCAN);
    const last = Math.min(n, Math.ceil((window.innerHeight - top) / ROW_H) + OVERSCAN);
    if (!force && first === this.first && last === this.last) return;
    this.first = first;
    this.last = last;
    const parts = [];
    if (first > 0) parts.push(`<tr class="spacer" aria-hidden="true"><td colspan="${COLUMNS.length}" style="height:${first * ROW_H}px"></td></tr>`);
    for (let i = first; i < last; i++) parts.push(this.rowHTML(this.rows[i]));
    if (last < n) parts.push(`<tr class="spacer" aria-hidden="true"><td colspan="${COLUMNS.length}" style="height:${(n - last) * ROW_H}px"></td></tr>`);
    const s = parts.join('');
    if (this.tbody.__html !== s) {
      this.tbody.__html = s;
      this.tbody.innerHTML = s;
    }
    const total = (this.allRows || []).length;
    const countEl = this.el.querySelector('[data-testid="topic-count"]');
    countEl.textContent = this.filter ? `${commafy(n)} of ${commafy(total)} topics` : `${commafy(total)} topics`;
    const empty = this.el.querySelector('.empty-slot');
    if (n === 0) {
      setHTML(empty, total === 0
        ? notice('No topics found', html`Publish a message to an nsqd or create a topic on the <a href="${pagePath('/lookup')}">Lookup</a> page.`)
        : notice('No topic matches the filter', html`<button class="btn" data-action="clear-filter">Clear filter</button>`));
    } else {
      setHTML(empty, '');
    }
  }

  rowHTML(r) {
    const href = pagePath('/topics/' + encodeURIComponent(r.name));
    const name = html`<a href="${href}" class="topic-link">${r.name}</a>${r.paused ? label('paused', 'paused') : ''}${r.known === false ? label('no producers', 'neutral', 'no nsqd has this topic; see Lookup') : ''}`;
    if (!r.known) {
      const dash = r.known === null ? '<span class="muted">…</span>' : '<span class="muted">–</span>';
      return `<tr class="row" data-topic="${attr(r.name)}"><td class="text">${name}</td>${COLUMNS.slice(1).map(() => `<td class="num">${dash}</td>`).join('')}</tr>`;
    }
    const rs = rates(`topic:${r.name}`);
    return `<tr class="row" data-topic="${attr(r.name)}">`
      + `<td class="text">${name}</td>`
      + `<td class="num" data-field="nodes">${commafy(r.nodes)}</td>`
      + `<td class="num" data-field="channels">${commafy(r.channels)}</td>`
      + `<td class="num" data-field="clients">${commafy(r.clients)}</td>`
      + `<td class="num${r.depth ? ' hot' : ''}" data-field="depth">${commafy(r.depth)}</td>`
      + `<td class="num${r.channelDepth ? ' hot' : ''}" data-field="channel_depth">${commafy(r.channelDepth)}</td>`
      + `<td class="num" data-field="in_flight_count">${commafy(r.inFlight)}</td>`
      + `<td class="num" data-field="message_count">${commafy(r.messages)}</td>`
      + `<td class="num rate-cell" data-field="rate"><span class="rate-val">${rate(r.rate)}</span>${sparkline(rs, { w: 72, h: 20, title: 'msg/s' })}</td>`
      + '</tr>';
  }
}

function attr(s) {
  return String(s).replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}
