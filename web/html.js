// Safe HTML building with tagged templates: interpolated values are escaped unless they are
// themselves html`` results (or raw()). Arrays are joined. null/undefined/false render nothing.

class SafeHTML {
  constructor(s) { this.s = s; }
  toString() { return this.s; }
}

const ESC = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escape(v) {
  return String(v).replace(/[&<>"']/g, (c) => ESC[c]);
}

function part(v) {
  if (v == null || v === false) return '';
  if (v instanceof SafeHTML) return v.s;
  if (Array.isArray(v)) return v.map(part).join('');
  return escape(v);
}

export function html(strings, ...vals) {
  let out = strings[0];
  for (let i = 0; i < vals.length; i++) out += part(vals[i]) + strings[i + 1];
  return new SafeHTML(out);
}

export function raw(s) { return new SafeHTML(String(s)); }

/** Replaces el's content only when the markup changed (keeps hover/selection otherwise). */
export function setHTML(el, content) {
  const s = part(content);
  if (el.__html !== s) {
    el.__html = s;
    el.innerHTML = s;
  }
}
