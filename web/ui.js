// Shared UI pieces: alert banners, the confirmation dialog, toasts, labels and empty states.
import { html, setHTML } from './html.js';

/** Error/warning banners. errors/warnings: arrays of strings. */
export function banners({ errors = [], warnings = [], stale = false } = {}) {
  return html`${errors.length ? html`<div class="alert alert-error" role="alert" data-testid="error-banner">
      <div class="alert-title">${errors.length === 1 ? 'Error' : `${errors.length} errors`}</div>
      <ul>${errors.map((e) => html`<li>${e}</li>`)}</ul>
      ${stale ? html`<div class="alert-note">Showing the last data received; retrying automatically.</div>` : ''}
    </div>` : ''}
    ${warnings.length ? html`<div class="alert alert-warning" role="status" data-testid="warning-banner">
      <div class="alert-title">Partial data: ${warnings.length === 1 ? 'one upstream failed' : `${warnings.length} upstream errors`}</div>
      <ul>${warnings.map((e) => html`<li>${e}</li>`)}</ul>
    </div>` : ''}`;
}

export function notice(title, body = '') {
  return html`<div class="notice"><div class="notice-title">${title}</div>${body ? html`<div class="notice-body">${body}</div>` : ''}</div>`;
}

export function label(text, kind = 'neutral', title = '') {
  return html`<span class="label label-${kind}" ${title ? html`title="${title}"` : ''}>${text}</span>`;
}

export function spinner(text = 'Loading…') {
  return html`<div class="loading" aria-busy="true"><span class="spinner"></span>${text}</div>`;
}

let dialogEl = null;

/**
 * Modal confirmation. Resolves true when confirmed. message is html``.
 * opts: title, confirmLabel, danger (red button).
 */
export function confirmDialog({ title, message, confirmLabel = 'Confirm', danger = false }) {
  if (!dialogEl) {
    dialogEl = document.createElement('dialog');
    dialogEl.className = 'dialog';
    dialogEl.setAttribute('data-testid', 'confirm-dialog');
    document.body.appendChild(dialogEl);
  }
  setHTML(dialogEl, html`<form method="dialog">
      <h2 class="dialog-title">${title}</h2>
      <div class="dialog-body">${message}</div>
      <div class="dialog-actions">
        <button value="cancel" class="btn" data-testid="confirm-cancel">Cancel</button>
        <button value="ok" class="btn ${danger ? 'btn-danger' : 'btn-primary'}" data-testid="confirm-ok">${confirmLabel}</button>
      </div></form>`);
  dialogEl.__html = null; // always re-render next time
  return new Promise((resolve) => {
    dialogEl.returnValue = '';
    dialogEl.addEventListener('close', () => resolve(dialogEl.returnValue === 'ok'), { once: true });
    dialogEl.showModal();
    dialogEl.querySelector('[value="cancel"]').focus();
  });
}

let toastBox = null;

export function toast(text, kind = 'ok') {
  if (!toastBox) {
    toastBox = document.createElement('div');
    toastBox.className = 'toasts';
    toastBox.setAttribute('aria-live', 'polite');
    document.body.appendChild(toastBox);
  }
  const el = document.createElement('div');
  el.className = `toast toast-${kind}`;
  el.setAttribute('data-testid', 'toast');
  el.textContent = text;
  toastBox.appendChild(el);
  const ms = kind === 'error' ? 9000 : 3500;
  setTimeout(() => el.classList.add('out'), ms);
  setTimeout(() => el.remove(), ms + 500);
}

/** A stat card with an optional sparkline/chart. */
export function card(title, value, { sub = '', chart = '', kind = '', testid = '' } = {}) {
  return html`<div class="card ${kind}" ${testid ? html`data-testid="${testid}"` : ''}>
    <div class="card-title">${title}</div>
    <div class="card-value">${value}</div>
    ${sub ? html`<div class="card-sub">${sub}</div>` : ''}
    ${chart ? html`<div class="card-chart">${chart}</div>` : ''}
  </div>`;
}
