// Cluster-wide statistics for the Streams (topics) and Nodes pages, built from the reference
// API only: GET /api/nodes, then GET /api/nodes/<node> for every node (a few at a time),
// summed by aggregate.js. Also records the rolling series the sparklines draw.
import { aggregateNodes, nodeAddr, warnings } from './aggregate.js';
import { api, pool } from './api.js';
import { record } from './series.js';

export const NODE_CONCURRENCY = 4;

export { nodeAddr };

export async function fetchCluster(signal) {
  const nodesResp = await api('/nodes', { signal });
  const nodes = nodesResp.nodes || [];
  const results = await pool(nodes, NODE_CONCURRENCY, (n) => api(`/nodes/${encodeURIComponent(nodeAddr(n))}`, { signal }));
  if (signal.aborted) throw Object.assign(new Error('aborted'), { kind: 'aborted' });
  const now = Date.now();
  const c = aggregateNodes(nodes, results, warnings(nodesResp.message));
  for (const info of c.nodes) {
    if (info.ok) record(`node:${info.addr}`, { depth: info.depth, message_count: info.messages, clients: info.clients }, now);
  }
  for (const a of c.topics.values()) {
    record(`topic:${a.name}`, { depth: a.depth, channel_depth: a.channelDepth, message_count: a.messages }, now);
  }
  if (c.up) record('cluster', { depth: c.depth, message_count: c.messages, clients: c.clients }, now);
  return { ...c, at: now };
}
