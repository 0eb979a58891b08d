// History charts from Graphite, drawn as the reference nsqadmin draws them: <img> tags whose
// src is Graphite's /render PNG for the statsd series nsqd pushes (-statsd-address), named
// with -statsd-prefix, -statsd-counter-format and -statsd-gauge-format. Only with
// -graphite-url (config.graphEnabled); with -proxy-graphite the URL is ours (/render).
// Target names follow the reference's handlebars_helpers.js (genTargets, large_graph).
import { config } from './config.js';
import { html } from './html.js';

const METRIC_TYPE = {
  depth: 'gauge',
  in_flight_count: 'gauge',
  deferred_count: 'gauge',
  requeue_count: 'counter',
  timeout_count: 'counter',
  message_count: 'counter',
  clients: 'gauge',
};

// The reference's history window (its default graph_interval).
const GRAPH_INTERVAL = '2h';

function formatKey(metricType, key) {
  if (metricType === 'counter') return config.statsdCounterFormat.replace(/%s/g, key);
  if (metricType === 'gauge') return config.statsdGaugeFormat.replace(/%s/g, key);
  return key;
}

function statsdPrefix(host) {
  let prefix = config.statsdPrefix.replace(/%s/g, host.replace(/[.:]/g, '_'));
  if (!prefix.endsWith('.')) prefix += '.';
  return prefix;
}

// bitly/statsdaemon's key sanitising, as the reference applies it to topic/channel names.
function sanitize(s) {
  return s.replaceAll(' ', '_').replaceAll('/', '-').replaceAll(/[^a-zA-Z0-9-_.]/g, '');
}

/** The Graphite target of one topic or channel series summed over every nsqd ('*'). */
export function graphiteTarget(topic, channel, key) {
  const ns = `topic.${sanitize(topic)}` + (channel ? `.channel.${sanitize(channel)}` : '');
  return `sumSeries(${formatKey(METRIC_TYPE[key], `${statsdPrefix('*')}${ns}.${key}`)})`;
}

/** The /render URL of the reference's large graph for one series. */
export function graphiteRenderURL(topic, channel, key) {
  const interval = `${config.statsdInterval}sec`;
  let target = graphiteTarget(topic, channel, key);
  // Counters are per statsd interval in Graphite: scaled to per second.
  if (METRIC_TYPE[key] === 'counter') target = `scale(${target},${1 / config.statsdInterval})`;
  const depthLike = key === 'depth' || key === 'deferred_count';
  const q = new URLSearchParams({
    colorList: depthLike ? 'red' : 'blue',
    height: '450',
    width: '800',
    bgcolor: 'ff000000',
    fgcolor: '999999',
    yMin: '0',
    lineMode: 'connected',
    drawNullAsZero: 'false',
    from: `-${GRAPH_INTERVAL}`,
    until: '-1min',
    target: `summarize(${target},"${interval}","avg")`,
  });
  return `${config.graphiteURL}/render?${q}`;
}

/** A section of Graphite history charts, or nothing without -graphite-url. */
export function graphiteSection(topic, channel, series) {
  if (!config.graphEnabled) return '';
  return html`<section class="section" data-testid="graphite-charts">
    <h2 class="section-title">History (Graphite, last ${GRAPH_INTERVAL})</h2>
    <div class="graphite-charts">
      ${series.map(([key, title]) => html`<figure class="graphite-chart">
        <figcaption>${title}</figcaption>
        <img loading="lazy" alt="${title} from Graphite" data-series="${key}"
             src="${graphiteRenderURL(topic, channel, key)}">
      </figure>`)}
    </div>
  </section>`;
}
