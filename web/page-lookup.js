// Lookup page (/lookup): the configured nsqlookupd, topics and channels known to nsqlookupd
// that no nsqd produces (with delete), and the form that creates a topic or channel.
import { api, warnings as splitWarnings } from './api.js';
import { config } from './config.js';
import { html } from './html.js';
import { Page } from './page.js';
import { notice, toast } from './ui.js';
import { adminAction, channelAPI, channelHref, isAdmin, topicAPI, topicHref } from './common.js';

const NAME_RE = /^[.a-zA-Z0-9_-]+(#ephemeral)?$/;

export function validName(s) {
  return s.length > 0 && s.length <= 64 && NAME_RE.test(s);
}

export class LookupPage extends Page {
  title() { return 'Lookup'; }
  heading() { return 'Lookup'; }

  async fetchData(signal) {
    if (!config.nsqlookupd.length) return { topics: {}, message: '' };
    return api('/topics?inactive=true', { signal });
  }

  /** The form is part of the page: don't re-render it while someone is typing in it. */
  refreshSecs(global) { return global ? Math.max(global, 10) : 0; }

  render() {
    const form = this.el.querySelector('form.create');
    const focused = form && form.contains(document.activeElement);
    const saved = form ? { topic: form.topic.value, channel: form.channel.value } : null;
    if (focused) return; // next poll re-renders
    super.render();
    const f = this.el.querySelector('form.create');
    if (f && saved) {
      f.topic.value = saved.topic;
      f.channel.value = saved.channel;
    }
  }

  warnings() { return splitWarnings(this.data?.message); }

  view() {
    if (!config.nsqlookupd.length) {
      return notice('nsqadmin is not configured with nsqlookupd hosts', 'Start nsqadmin with -lookupd-http-address to see lookup data and create topics and channels.');
    }
    const inactive = Object.entries(this.data.topics || {}).sort(([a], [b]) => (a < b ? -1 : 1));
    const admin = isAdmin();
    return html`<div class="lookup-grid">
      <section class="panel">
        <h2 class="section-title">nsqlookupd hosts</h2>
        <ul class="plain-list" data-testid="lookupd-list">${config.nsqlookupd.map((a) => html`<li class="mono">${a}</li>`)}</ul>
      </section>

      ${admin ? html`<section class="panel">
        <h2 class="section-title">Create topic / channel</h2>
        <p class="muted">Sets up a stream hierarchy before services are deployed. Leave the channel empty to create only the topic.</p>
        <form class="create" data-testid="create-form" novalidate>
          <label>Topic<input name="topic" required maxlength="64" placeholder="topic name" autocomplete="off" spellcheck="false"></label>
          <label>Channel <span class="muted">(optional)</span><input name="channel" maxlength="64" placeholder="channel name" autocomplete="off" spellcheck="false"></label>
          <div class="form-error" data-testid="form-error" hidden></div>
          <button class="btn btn-primary" type="submit">Create</button>
        </form>
      </section>` : ''}

      <section class="panel panel-wide">
        <h2 class="section-title">Inactive topics and channels</h2>
        <p class="muted">Known to nsqlookupd but not produced on any nsqd in the cluster.</p>
        ${inactive.length ? html`<ul class="tree" data-testid="inactive-tree">${inactive.map(([t, chans]) => html`<li data-topic="${t}">
            <div class="tree-row">${admin ? html`<button class="btn btn-xs btn-ghost-danger" data-action="delete-topic" data-topic="${t}" title="Delete topic ${t}">Delete</button>` : ''}
              <a href="${topicHref(t)}" class="strong">${t}</a></div>
            ${(chans || []).length ? html`<ul>${chans.slice().sort().map((c) => html`<li data-channel="${c}"><div class="tree-row">${admin ? html`<button class="btn btn-xs btn-ghost-danger" data-action="delete-channel" data-topic="${t}" data-channel="${c}" title="Delete channel ${c}">Delete</button>` : ''}
              <a href="${channelHref(t, c)}">${c}</a></div></li>`)}</ul>` : ''}
          </li>`)}</ul>` : notice('No inactive topics')}
      </section>
    </div>`;
  }

  onAction(name, el) {
    const t = el.dataset.topic;
    const refresh = () => this.app.refreshNow();
    if (name === 'delete-topic') {
      adminAction({ verb: 'delete', what: html`topic <em>${t}</em>`, danger: true, call: () => topicAPI.remove(t), done: refresh });
      return true;
    }
    if (name === 'delete-channel') {
      const c = el.dataset.channel;
      adminAction({ verb: 'delete', what: html`channel <em>${c}</em> of topic <em>${t}</em>`, danger: true, call: () => channelAPI.remove(t, c), done: refresh });
      return true;
    }
    return false;
  }

  async onSubmit(e) {
    const form = e.target.closest('form.create');
    if (!form) return;
    e.preventDefault();
    const topic = form.topic.value.trim();
    const channel = form.channel.value.trim();
    const errEl = form.querySelector('[data-testid="form-error"]');
    const fail = (m) => { errEl.textContent = m; errEl.hidden = false; };
    errEl.hidden = true;
    if (!validName(topic)) return fail('Topic names are 1–64 characters of letters, digits, ".", "_" and "-" (optionally ending in "#ephemeral").');
    if (channel && !validName(channel)) return fail('Channel names are 1–64 characters of letters, digits, ".", "_" and "-" (optionally ending in "#ephemeral").');
    const btn = form.querySelector('button[type="submit"]');
    btn.disabled = true;
    try {
      const r = await api('/topics', { method: 'POST', body: { topic, channel } });
      toast(r.message || (channel ? `Created channel ${topic} / ${channel}` : `Created topic ${topic}`), r.message ? 'warn' : 'ok');
      form.reset();
      document.activeElement?.blur();
      this.app.refreshNow();
    } catch (err) {
      fail(err.message);
    } finally {
      btn.disabled = false;
    }
  }
}
