// nsqadmin single-page app: shell, history-API router (base-path aware) and the poll loop.
import { config, pagePath } from './config.js';
import { html, setHTML } from './html.js';
import { ago } from './format.js';
import { TopicsPage } from './page-topics.js';
import { TopicPage } from './page-topic.js';
import { ChannelPage } from './page-channel.js';
import { NodesPage } from './page-nodes.js';
import { NodePage } from './page-node.js';
import { CounterPage } from './page-counter.js';
import { LookupPage } from './page-lookup.js';
import { NotFoundPage } from './page-notfound.js';

const ROUTES = [
  [/^\/(?:topics)?$/, TopicsPage, 'streams'],
  [/^\/topics\/([^/]+)$/, TopicPage, 'streams'],
  [/^\/topics\/([^/]+)\/([^/]+)$/, ChannelPage, 'streams'],
  [/^\/nodes$/, NodesPage, 'nodes'],
  [/^\/nodes\/([^/]+)$/, NodePage, 'nodes'],
  [/^\/counter$/, CounterPage, 'counter'],
  [/^\/lookup$/, LookupPage, 'lookup'],
];

const REFRESH_CHOICES = [2, 5, 10, 30, 0];
const store = {
  get(k, d) { try { return localStorage.getItem(k) ?? d; } catch { return d; } },
  set(k, v) { try { localStorage.setItem(k, v); } catch { /* private mode */ } },
};

function initialRefresh() {
  const q = new URLSearchParams(location.search).get('refresh');
  if (q != null && !Number.isNaN(Number(q))) return Number(q);
  const s = Number(store.get('nsqadmin.refresh', '5'));
  return Number.isNaN(s) ? 5 : s;
}

class App {
  constructor(root) {
    this.root = root;
    this.refreshSecs = initialRefresh();
    this.page = null;
    this.timer = null;
    this.ctl = null;
    this.polling = false;
    this.lastDuration = 0;
    this.renderShell();
    this.main = root.querySelector('#page');
    this.statusEl = root.querySelector('[data-testid="live-status"]');
    document.addEventListener('click', (e) => this.onClick(e));
    document.addEventListener('submit', (e) => this.page?.onSubmit?.(e));
    window.addEventListener('popstate', () => this.route());
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden && this.page && !this.polling && !this.timer) this.tick();
    });
    root.querySelector('#refresh').addEventListener('change', (e) => {
      this.refreshSecs = Number(e.target.value);
      store.set('nsqadmin.refresh', String(this.refreshSecs));
      this.schedule();
      this.updateStatus();
    });
    root.querySelector('#theme').addEventListener('click', () => this.toggleTheme());
    setInterval(() => this.updateStatus(), 1000);
    this.route();
  }

  renderShell() {
    const nav = [['streams', 'Streams', '/'], ['nodes', 'Nodes', '/nodes'], ['counter', 'Counter', '/counter'], ['lookup', 'Lookup', '/lookup']];
    setHTML(this.root, html`
      <header class="topbar">
        <div class="topbar-inner">
          <a class="brand" href="${pagePath('/')}" aria-label="nsqadmin home">
            <svg viewBox="0 0 32 32" width="26" height="26" aria-hidden="true"><rect width="32" height="32" rx="7" class="brand-bg"/><path d="M7 22V10l9 12V10m3 12h6" fill="none" stroke="#fff" stroke-width="3" stroke-linecap="round" stroke-linejoin="round"/></svg>
            <span>nsqadmin</span>
          </a>
          <nav class="mainnav">${nav.map(([id, text, p]) => html`<a data-nav="${id}" href="${pagePath(p)}">${text}</a>`)}</nav>
          <div class="topbar-right">
            <span class="live" data-testid="live-status"><span class="dot"></span><span class="live-text">…</span></span>
            <label class="refresh" title="How often pages refresh their data">
              <span class="sr-only">Refresh</span>
              <select id="refresh" data-testid="refresh-select">
                ${REFRESH_CHOICES.map((s) => html`<option value="${s}" ${s === this.refreshSecs ? 'selected' : ''}>${s ? `every ${s}s` : 'paused'}</option>`)}
                ${REFRESH_CHOICES.includes(this.refreshSecs) ? '' : html`<option value="${this.refreshSecs}" selected>every ${this.refreshSecs}s</option>`}
              </select>
            </label>
            <button id="theme" class="icon-btn" title="Toggle dark / light theme" aria-label="Toggle theme">
              <svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true"><path d="M12 3a9 9 0 1 0 9 9 7 7 0 0 1-9-9z" fill="currentColor"/></svg>
            </button>
            ${config.version ? html`<span class="version" title="nsqadmin version">v${config.version}</span>` : ''}
          </div>
        </div>
      </header>
      <main id="page" class="container"></main>
      <footer class="footer container">
        <span>nsqadmin${config.version ? ` v${config.version}` : ''}</span>
        <span>Rates and charts come from this page's own sampling while it is open.</span>
        ${config.isAdmin ? '' : html`<span class="label label-neutral" data-testid="read-only">read-only</span>`}
      </footer>`);
  }

  toggleTheme() {
    const el = document.documentElement;
    const dark = el.dataset.theme ? el.dataset.theme === 'dark' : matchMedia('(prefers-color-scheme: dark)').matches;
    el.dataset.theme = dark ? 'light' : 'dark';
    store.set('nsqadmin.theme', el.dataset.theme);
  }

  /** Path below the base path, e.g. '/topics/x'; null when outside the app. */
  localPath(pathname) {
    const b = config.basePath;
    if (!b) return pathname;
    if (pathname === b || pathname === b + '/') return '/';
    if (pathname.startsWith(b + '/')) return pathname.slice(b.length);
    return null;
  }

  navigate(href, { replace = false } = {}) {
    const u = new URL(href, location.href);
    if (replace) history.replaceState(null, '', u.pathname + u.search + u.hash);
    else history.pushState(null, '', u.pathname + u.search + u.hash);
    this.route();
  }

  onClick(e) {
    const act = e.target.closest('[data-action]');
    if (act && this.main.contains(act) && this.page) {
      if (act.dataset.action === 'retry') {
        e.preventDefault();
        this.refreshNow();
        return;
      }
      if (this.page.onAction(act.dataset.action, act, e)) {
        e.preventDefault();
        return;
      }
    }
    const a = e.target.closest('a[href]');
    if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    if (a.target && a.target !== '_self') return;
    const u = new URL(a.href, location.href);
    if (u.origin !== location.origin) return;
    const lp = this.localPath(u.pathname);
    if (lp == null || !ROUTES.some(([re]) => re.test(lp))) return;
    e.preventDefault();
    if (u.pathname === location.pathname && u.search === location.search) {
      this.refreshNow();
      return;
    }
    this.navigate(u.href);
  }

  route() {
    const lp = this.localPath(location.pathname) ?? location.pathname;
    let PageClass = NotFoundPage;
    let params = [lp];
    let section = '';
    for (const [re, P, sec] of ROUTES) {
      const m = re.exec(lp);
      if (m) {
        PageClass = P;
        section = sec;
        try {
          params = m.slice(1).map((s) => decodeURIComponent(s));
        } catch {
          params = m.slice(1);
        }
        break;
      }
    }
    for (const a of this.root.querySelectorAll('[data-nav]')) {
      a.classList.toggle('active', a.dataset.nav === section);
      if (a.dataset.nav === section) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    this.stop();
    this.page?.destroy();
    this.main.__html = null;
    this.main.innerHTML = '';
    this.page = new PageClass(this.main, params, this);
    document.title = `${this.page.title()} · nsqadmin`;
    this.page.render();
    window.scrollTo(0, 0);
    this.tick();
  }

  stop() {
    clearTimeout(this.timer);
    this.timer = null;
    this.ctl?.abort();
    this.ctl = null;
    this.polling = false;
  }

  refreshNow() {
    this.stop();
    this.tick();
  }

  async tick() {
    const page = this.page;
    if (!page) return;
    clearTimeout(this.timer);
    this.timer = null;
    const ctl = new AbortController();
    this.ctl = ctl;
    this.polling = true;
    this.updateStatus();
    const t0 = performance.now();
    try {
      await page.poll(ctl.signal);
    } catch {
      return; // aborted: a newer poll or another page took over
    }
    if (this.page !== page || ctl.signal.aborted) return;
    this.lastDuration = performance.now() - t0;
    this.polling = false;
    this.ctl = null;
    try {
      page.render();
    } catch (e) {
      console.error(e);
      setHTML(this.main, html`<div class="alert alert-error" role="alert" data-testid="error-banner"><div class="alert-title">This page failed to render</div><ul><li>${e.message}</li></ul></div>`);
    }
    document.title = `${page.title()} · nsqadmin`;
    this.updateStatus();
    this.schedule();
  }

  /** Interval of the next poll: the chosen refresh, the page's own, stretched for slow polls. */
  nextDelay() {
    const pageSecs = this.page?.refreshSecs?.(this.refreshSecs);
    const secs = pageSecs ?? this.refreshSecs;
    if (!secs) return 0;
    return Math.max(secs * 1000, this.lastDuration * 3);
  }

  schedule() {
    clearTimeout(this.timer);
    this.timer = null;
    if (this.polling) return;
    const d = this.nextDelay();
    if (!d) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      if (document.hidden) return; // resumes on visibilitychange
      this.tick();
    }, d);
  }

  updateStatus() {
    const el = this.statusEl;
    if (!el || !this.page) return;
    const p = this.page;
    let state;
    let text;
    if (p.error) {
      state = 'error';
      text = p.updatedAt ? `error · data ${ago(Date.now() - p.updatedAt)}` : 'error';
    } else if (!p.updatedAt) {
      state = 'loading';
      text = 'loading…';
    } else if (!this.refreshSecs) {
      state = 'paused';
      text = `paused · ${ago(Date.now() - p.updatedAt)}`;
    } else {
      state = this.polling ? 'polling' : 'live';
      text = `live · ${ago(Date.now() - p.updatedAt)}`;
    }
    el.dataset.state = state;
    const t = el.querySelector('.live-text');
    if (t.textContent !== text) t.textContent = text;
  }
}

window.nsqadmin = new App(document.getElementById('app'));
