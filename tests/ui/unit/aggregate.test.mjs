// web/aggregate.js under node: per-node answers summed for the Streams and Nodes pages, and
// the topic table's filter and sort.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aggregateNodes, filterSortRows, nodeAddr, warnings } from '../../../web/aggregate.js';

test('warnings splits nsqadmin partial-failure messages', () => {
  assert.deepEqual(warnings(''), []);
  assert.deepEqual(warnings(null), []);
  assert.deepEqual(warnings('WARNING: a; b\nc'), ['a', 'b', 'c']);
});

test('nodeAddr brackets IPv6 hosts', () => {
  assert.equal(nodeAddr({ broadcast_address: 'h1', http_port: 4151 }), 'h1:4151');
  assert.equal(nodeAddr({ broadcast_address: '::1', http_port: 4151 }), '[::1]:4151');
});

const channel = (name, depth, inFlight, clients) => ({
  channel_name: name, depth, in_flight_count: inFlight, deferred_count: 0, client_count: clients,
});

test('aggregateNodes sums topics across nodes and reports the failed ones', () => {
  const nodes = [
    { broadcast_address: 'a', http_port: 1, hostname: 'ha' },
    { broadcast_address: 'b', http_port: 2, hostname: 'hb' },
    { broadcast_address: 'c', http_port: 3, hostname: 'hc' },
  ];
  const results = [
    { ok: true, value: { topics: [{ topic_name: 't', depth: 5, message_count: 10, channels: [channel('c1', 2, 1, 3)] }] } },
    { ok: true, value: { message: 'WARNING: slow', topics: [{ topic_name: 't', depth: 1, message_count: 4, paused: true, channels: [channel('c1', 1, 0, 1), channel('c2', 0, 2, 0)] }] } },
    { ok: false, error: new Error('connection refused') },
  ];
  const c = aggregateNodes(nodes, results, ['from /api/nodes']);
  assert.equal(c.up, 2);
  assert.deepEqual(c.warnings, ['from /api/nodes', 'nsqd b:2: slow', 'nsqd c:3 (hc): connection refused']);
  const t = c.topics.get('t');
  assert.equal(t.nodes, 2);
  assert.equal(t.depth, 6);
  assert.equal(t.messages, 14);
  assert.equal(t.channelDepth, 3);
  assert.equal(t.inFlight, 3);
  assert.equal(t.clients, 4);
  assert.deepEqual([...t.channels], ['c1', 'c2']);
  assert.equal(t.paused, true);
  // Node totals count channel depth too; the cluster sums the nodes that answered.
  assert.deepEqual(c.nodes.map((n) => [n.addr, n.ok, n.depth, n.clients]), [['a:1', true, 7, 3], ['b:2', true, 2, 1], ['c:3', false, 0, 0]]);
  assert.equal(c.depth, 9);
  assert.equal(c.messages, 14);
  assert.equal(c.clients, 4);
});

test('filterSortRows filters on every word and sorts numbers with missing values last', () => {
  const rows = [
    { name: 'orders-eu', depth: 5 },
    { name: 'orders-us', depth: null },
    { name: 'Payments', depth: 9 },
    { name: 'orders-asia', depth: 5 },
  ];
  assert.deepEqual(filterSortRows(rows, 'ORDERS  eu', { key: 'name', dir: 1 }).map((r) => r.name), ['orders-eu']);
  assert.deepEqual(filterSortRows(rows, '', { key: 'name', dir: -1 }).map((r) => r.name), ['orders-us', 'orders-eu', 'orders-asia', 'Payments']);
  assert.deepEqual(filterSortRows(rows, '', { key: 'depth', dir: -1 }).map((r) => r.name), ['Payments', 'orders-asia', 'orders-eu', 'orders-us']);
  assert.deepEqual(filterSortRows(rows, '', { key: 'depth', dir: 1 }).map((r) => r.name), ['orders-us', 'orders-asia', 'orders-eu', 'Payments']);
  assert.deepEqual(filterSortRows(undefined, 'x', { key: 'name', dir: 1 }), []);
  assert.equal(rows[0].name, 'orders-eu'); // the input is not reordered
});
