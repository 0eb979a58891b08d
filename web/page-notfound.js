// Any URL under the base path that is not one of nsqadmin's pages.
import { pagePath } from './config.js';
import { html } from './html.js';
import { Page } from './page.js';
import { notice } from './ui.js';

export class NotFoundPage extends Page {
  title() { return 'Not found'; }
  async fetchData() { return {}; }
  view() {
    return notice('Page not found', html`There is no page at <code>${location.pathname}</code>. Go to <a href="${pagePath('/')}">Topics</a>.`);
  }
}
