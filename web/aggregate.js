// The DOM-free core of the Streams and Nodes pages: nsqadmin's partial-failure messages split
// into warnings, every node's /api/nodes/<node> answer summed into per-topic and per-node
// totals, and the topic table's filter and sort. No fetch, no document: unit-tested under node
// (tests/ui/unit/).

/** Splits nsqadmin's "WARNING: a; b\nc" partial-failure message into its parts. */
export function warnings(message) {
  if (!message) return [];
  const m = String(message).replace(/^WARNING:\s*/, '');
  return m.split(/\n|;\s+(?=\S)/).map((s) => s.trim()).filter(Boolean);
}

/** "host:port" of a node's HTTP API as nsqadmin names it (IPv6 hosts bracketed). */
export function nodeAddr(n) {
  const h = n.broadcast_address || '';
  return (h.includes(':') ? `[${h}]` : h) + ':' + n.http_port;
}

/**
 * Sums the answers of one poll. `nodes` is /api/nodes' list, `results[i]` the pool() outcome
 * ({ok, value|error}) of node i's /api/nodes/<node>, `warns` the warnings gathered so far
 * (appended to). Returns { nodes: per-node totals, topics: Map name → totals, warnings, up,
 * depth, messages, clients } with cluster totals over the nodes that answered.
 */
export function aggregateNodes(nodes, results, warns = []) {
  const topics = new Map();
  const nodeInfo = [];
  let depth = 0;
  let messages = 0;
  let clients = 0;
  let up = 0;
  nodes.forEach((n, i) => {
    const addr = nodeAddr(n);
    const r = results[i];
    const info = { addr, node: n, ok: r.ok, error: r.ok ? null : r.error.message, topics: 0, channels: 0, depth: 0, messages: 0, clients: 0, inFlight: 0 };
    nodeInfo.push(info);
    if (!r.ok) {
      warns.push(`nsqd ${addr}${n.hostname ? ` (${n.hostname})` : ''}: ${r.error.message}`);
      return;
    }
    up++;
    for (const w of warnings(r.value.message)) warns.push(`nsqd ${addr}: ${w}`);
    for (const t of r.value.topics || []) {
      let a = topics.get(t.topic_name);
      if (!a) {
        a = { name: t.topic_name, nodes: 0, channels: new Set(), clients: 0, depth: 0, channelDepth: 0, inFlight: 0, deferred: 0, messages: 0, paused: false };
        topics.set(t.topic_name, a);
      }
      a.nodes++;
      a.depth += t.depth;
      a.messages += t.message_count;
      if (t.paused) a.paused = true;
      info.topics++;
      info.depth += t.depth;
      info.messages += t.message_count;
      for (const c of t.channels || []) {
        a.channels.add(c.channel_name);
        const n = c.client_count ?? (c.clients || []).length;
        a.clients += n;
        a.channelDepth += c.depth;
        a.inFlight += c.in_flight_count;
        a.deferred += c.deferred_count;
        info.channels++;
        info.clients += n;
        info.depth += c.depth;
        info.inFlight += c.in_flight_count;
      }
    }
    depth += info.depth;
    messages += info.messages;
    clients += info.clients;
  });
  return { nodes: nodeInfo, topics, warnings: warns, up, depth, messages, clients };
}

/**
 * The Streams table's rows: those whose name contains every word of `filter` (any case),
 * sorted by `key` ('name' or a numeric column; a missing number sorts as -1, ties by name)
 * in direction `dir` (1 or -1). Returns a new array.
 */
export function filterSortRows(allRows, filter, { key, dir }) {
  const terms = filter.toLowerCase().split(/\s+/).filter(Boolean);
  let rows = allRows || [];
  if (terms.length) rows = rows.filter((r) => terms.every((t) => r.name.toLowerCase().includes(t)));
  rows = rows.slice();
  if (key === 'name') {
    rows.sort((a, b) => dir * (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } else {
    rows.sort((a, b) => {
      const x = a[key] ?? -1;
      const y = b[key] ?? -1;
      return dir * (x - y) || (a.name < b.name ? -1 : 1);
    });
  }
  return rows;
}
