// Runtime configuration handed to the page by the server (web/README.md, "Server contract").
//
// Sources, first found wins:
//   1. <script id="nsqadmin-config" type="application/json"> with the JSON object
//   2. the globals the reference nsqadmin defines (BASE_PATH, VERSION, NSQLOOKUPD, IS_ADMIN)
//   3. defaults; the base path then comes from <meta name="nsqadmin-base-path"> or, failing
//      that, from this module's own URL (<base>/static/config.js).

function readJSONConfig() {
  const el = document.getElementById('nsqadmin-config');
  if (!el) return null;
  const text = el.textContent.trim();
  if (!text || text.startsWith('__')) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function readGlobals() {
  const g = globalThis;
  if (typeof g.BASE_PATH === 'undefined' && typeof g.VERSION === 'undefined') return null;
  return {
    base_path: g.BASE_PATH,
    version: g.VERSION,
    nsqlookupd: g.NSQLOOKUPD,
    is_admin: g.IS_ADMIN,
    user_agent: g.USER_AGENT,
  };
}

function normBase(p) {
  if (typeof p !== 'string') return null;
  const s = ('/' + p).replace(/\/+/g, '/').replace(/\/+$/, '');
  return s; // '' for the root
}

function baseFromMeta() {
  const m = document.querySelector('meta[name="nsqadmin-base-path"]');
  const v = m && m.getAttribute('content');
  if (v == null || v.includes('__NSQADMIN')) return null;
  return normBase(v);
}

function baseFromScript() {
  const dir = new URL('.', import.meta.url).pathname; // <base>/static/
  return normBase(dir.replace(/\/static\/$/, '/'));
}

const raw = readJSONConfig() || readGlobals() || {};

let base = normBase(raw.base_path);
if (base == null) base = baseFromMeta();
if (base == null) base = baseFromScript();

export const config = Object.freeze({
  basePath: base, // '' when served at the root, else '/prefix' without trailing slash
  version: raw.version || '',
  nsqlookupd: Array.isArray(raw.nsqlookupd) ? raw.nsqlookupd : [],
  isAdmin: raw.is_admin !== false,
  userAgent: raw.user_agent || `nsqadmin/v${raw.version || 'unknown'}`,
  configured: Object.keys(raw).length > 0,
  // Graphite history charts (-graphite-url; graphite.js), as the reference's AppState.
  graphEnabled: raw.graph_enabled === true,
  graphiteURL: typeof raw.graphite_url === 'string' ? raw.graphite_url.replace(/\/$/, '') : '',
  statsdPrefix: raw.statsd_prefix || 'nsq.%s',
  statsdCounterFormat: raw.statsd_counter_format ?? 'stats.counters.%s.count',
  statsdGaugeFormat: raw.statsd_gauge_format ?? 'stats.gauges.%s',
  statsdInterval: Number(raw.statsd_interval) > 0 ? Number(raw.statsd_interval) : 60,
});

/** URL of an application page: path('/topics/x') → '<base>/topics/x'. */
export function pagePath(p) {
  return (config.basePath + p).replace(/(.)\/$/, '$1') || '/';
}

/** URL of an API endpoint: apiPath('/topics') → '<base>/api/topics'. */
export function apiPath(p) {
  return config.basePath + '/api' + p;
}
