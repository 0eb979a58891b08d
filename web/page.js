// Base class of every page: one poll = fetchData() → render(). Keeps the last good data on
// screen when a later poll fails (with an error banner), and never leaves the page blank.
import { html, setHTML } from './html.js';
import { banners, spinner } from './ui.js';
import { pagePath } from './config.js';

export class Page {
  constructor(el, params, app) {
    this.el = el;
    this.params = params;
    this.app = app;
    this.data = null;
    this.error = null; // message of the last failed poll (null after a good one)
    this.updatedAt = 0;
  }

  /** Page title (document.title and header). */
  title() { return ''; }

  /** Fetches everything the page shows; returns the new data. Throws ApiError on failure. */
  async fetchData(_signal) { return null; }

  /** Markup of the page for this.data (non-null). */
  view() { return html``; }

  /** Called by the app for each poll. */
  async poll(signal) {
    try {
      const data = await this.fetchData(signal);
      this.data = data;
      this.error = null;
      this.updatedAt = Date.now();
    } catch (e) {
      if (e.kind === 'aborted' || signal.aborted) throw e;
      this.error = e.message || String(e);
    }
  }

  /** Warnings (partial upstream failures) to show above the page. */
  warnings() { return []; }

  render() {
    if (this.data == null) {
      if (this.error) {
        setHTML(this.el, html`${this.header()}
          <div class="alert alert-error" role="alert" data-testid="error-banner">
            <div class="alert-title">Could not load this page</div>
            <ul><li>${this.error}</li></ul>
            <div class="alert-actions"><button class="btn" data-action="retry">Retry now</button>
            <a class="btn btn-link" href="${pagePath('/')}">Back to topics</a></div>
          </div>`);
      } else {
        setHTML(this.el, html`${this.header()}${spinner()}`);
      }
      return;
    }
    const open = [...this.el.querySelectorAll('details[data-keep][open]')].map((d) => d.dataset.keep);
    setHTML(this.el, html`${this.header()}
      <div class="banners">${banners({ errors: this.error ? [this.error] : [], warnings: this.warnings(), stale: !!this.error })}</div>
      ${this.view()}`);
    for (const d of this.el.querySelectorAll('details[data-keep]')) if (open.includes(d.dataset.keep)) d.open = true;
  }

  /** Breadcrumb + title row; pages override crumbs() and actions(). */
  header() {
    const crumbs = this.crumbs();
    return html`<div class="page-head">
      ${crumbs.length ? html`<nav class="crumbs" aria-label="breadcrumb">${crumbs.map(([text, href]) => html`<a href="${href}">${text}</a><span class="sep">/</span>`)}</nav>` : ''}
      <div class="page-title-row">
        <h1 class="page-title">${this.heading()}</h1>
        <div class="page-actions">${this.data != null ? this.actions() : ''}</div>
      </div>
    </div>`;
  }

  crumbs() { return []; }
  heading() { return this.title(); }
  actions() { return ''; }

  /** Delegated click handler for [data-action] elements; return true when handled. */
  onAction(_name, _el, _event) { return false; }

  destroy() {}
}
