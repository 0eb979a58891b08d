// Cluster-wide statistics for the Streams (topics) and Nodes pages, built from the reference
// API only: GET /api/nodes, then GET /api/nodes/<node> for every node (a few at a time).
// Also records the rolling series the sparklines draw.
import { api, pool, warnings } from './api.js';
import { record } from './series.js';

export const NODE_CONCURRENCY = 4;

/** "host:port" of a node's HTTP API as nsqadmin names it (IPv6 hosts bracketed). */
export function nodeAddr(n) {
  const h = n.broadcast_address || '';
  return (h.includes(':') ? `[${h}]` : h) + ':' + n.http_port;
}

export async function fetchCluster(signal) {
  const nodesResp = await api('/nodes', { signal });
  const nodes = nodesResp.nodes || [];
  const warns = warnings(nodesResp.message);
  const results = await pool(nodes, NODE_CONCURRENCY, (n) => api(`/nodes/${encodeURIComponent(nodeAddr(n))}`, { signal }));
  if (signal.aborted) throw Object.assign(new Error('aborted'), { kind: 'aborted' });
  const now = Date.now();
  const topics = new Map();
  const nodeInfo = [];
  let clusterDepth = 0;
  let clusterMsgs = 0;
  let clusterClients = 0;
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
        const clients = c.client_count ?? (c.clients || []).length;
        a.clients += clients;
        a.channelDepth += c.depth;
        a.inFlight += c.in_flight_count;
        a.deferred += c.deferred_count;
        info.channels++;
        info.clients += clients;
        info.depth += c.depth;
        info.inFlight += c.in_flight_count;
      }
    }
    clusterDepth += info.depth;
    clusterMsgs += info.messages;
    clusterClients += info.clients;
    record(`node:${addr}`, { depth: info.depth, message_count: info.messages, clients: info.clients }, now);
  });
  for (const a of topics.values()) {
    record(`topic:${a.name}`, { depth: a.depth, channel_depth: a.channelDepth, message_count: a.messages }, now);
  }
  if (up) record('cluster', { depth: clusterDepth, message_count: clusterMsgs, clients: clusterClients }, now);
  return { nodes: nodeInfo, topics, warnings: warns, up, depth: clusterDepth, messages: clusterMsgs, clients: clusterClients, at: now };
}
