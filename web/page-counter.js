// Counter page (/counter): the total of every channel's message_count ("messages processed"),
// animated between polls, with the cluster's delivery rate charted from the page's sampling.
import { api, warnings as splitWarnings } from './api.js';
import { html } from './html.js';
import { commafy, rate } from './format.js';
import { Page } from './page.js';
import { currentRate, rates, record } from './series.js';
import { chart } from './spark.js';
import { channelHref, topicHref } from './common.js';

export class CounterPage extends Page {
  constructor(...a) {
    super(...a);
    this.shown = null; // number currently displayed
    this.from = 0;
    this.to = 0;
    this.t0 = 0;
    this.dur = 1;
  }

  title() { return 'Counter'; }
  heading() { return 'Messages processed'; }

  /** Polls every 2 s (or slower if the chosen refresh is slower); honours "paused". */
  refreshSecs(global) { return global ? Math.min(global, 2) : 0; }

  async fetchData(signal) {
    const d = await api('/counter', { signal });
    const now = Date.now();
    let total = 0;
    const perChannel = new Map();
    for (const s of Object.values(d.stats || {})) {
      total += s.message_count;
      const k = `${s.topic_name}\u0000${s.channel_name}`;
      perChannel.set(k, (perChannel.get(k) || 0) + s.message_count);
    }
    record('counter', { message_count: total }, now);
    for (const [k, v] of perChannel) {
      const [t, c] = k.split('\u0000');
      record(`counter:${t}/${c}`, { message_count: v }, now);
    }
    return { total, perChannel, message: d.message };
  }

  warnings() { return splitWarnings(this.data?.message); }

  render() {
    const first = !this.el.querySelector('.counter-big');
    super.render();
    if (!this.data) return;
    const total = this.data.total;
    const now = performance.now();
    if (this.shown == null || total < this.shown) {
      this.shown = total;
      this.from = total;
      this.to = total;
    } else {
      this.from = this.shown;
      this.to = total;
      this.t0 = now;
      this.dur = Math.max(500, (this.app.nextDelay() || 2000) * 0.9);
    }
    if (first || !this.anim) this.animate();
  }

  animate() {
    const el = this.el.querySelector('[data-testid="counter-value"]');
    if (!el) { this.anim = 0; return; }
    const p = Math.min(1, (performance.now() - this.t0) / this.dur);
    this.shown = Math.round(this.from + (this.to - this.from) * p);
    const s = commafy(this.shown);
    if (el.textContent !== s) el.textContent = s;
    el.dataset.target = String(this.to);
    this.anim = p < 1 ? requestAnimationFrame(() => this.animate()) : 0;
  }

  destroy() { cancelAnimationFrame(this.anim); }

  view() {
    const d = this.data;
    const r = currentRate('counter');
    const top = [...d.perChannel.keys()].map((k) => {
      const [t, c] = k.split('\u0000');
      return { t, c, count: d.perChannel.get(k), rate: currentRate(`counter:${t}/${c}`) };
    }).sort((a, b) => (b.rate ?? -1) - (a.rate ?? -1) || b.count - a.count).slice(0, 10);
    return html`
      <div class="counter-hero">
        <div class="counter-big" data-testid="counter-value" data-target="${d.total}">${commafy(this.shown ?? d.total)}</div>
        <div class="counter-sub">messages delivered to channels across the cluster · <strong data-testid="counter-rate">${rate(r)}</strong> msg/s</div>
        <div class="counter-chart">${chart(rates('counter'), { h: 220, unit: '/s', label: 'messages per second' })}</div>
      </div>
      <section class="section">
        <h2 class="section-title">Busiest channels</h2>
        ${top.length ? html`<div class="table-wrap"><table class="grid"><thead><tr><th class="text">Topic</th><th class="text">Channel</th><th class="num">Messages</th><th class="num">Rate</th></tr></thead>
          <tbody>${top.map((x) => html`<tr><td class="text"><a href="${topicHref(x.t)}">${x.t}</a></td><td class="text"><a href="${channelHref(x.t, x.c)}">${x.c}</a></td><td class="num">${commafy(x.count)}</td><td class="num">${rate(x.rate)}</td></tr>`)}</tbody></table></div>`
          : html`<p class="muted">No channels yet.</p>`}
      </section>`;
  }
}

