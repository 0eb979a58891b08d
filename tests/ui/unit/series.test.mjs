// web/series.js under node: the rolling samples behind the sparklines and the rates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { currentRate, forget, rates, record, size, values, WINDOW_MS } from '../../../web/series.js';

test('rates come from counter deltas; a counter going back is a gap, not a negative rate', () => {
  const t0 = 1_000_000;
  record('k1', { message_count: 0 }, t0);
  record('k1', { message_count: 100 }, t0 + 1000);
  record('k1', { message_count: 50 }, t0 + 2000); // nsqd restarted
  record('k1', { message_count: 250 }, t0 + 3000);
  const r = rates('k1');
  assert.deepEqual(r.t, [t0 + 1000, t0 + 2000, t0 + 3000]);
  assert.deepEqual(r.v, [100, null, 200]);
  assert.equal(currentRate('k1'), 200);
  forget('k1');
});

test('two samples within 250 ms keep the newer value only', () => {
  record('k2', { depth: 1 }, 5000);
  record('k2', { depth: 2 }, 5100);
  assert.deepEqual(values('k2', 'depth'), { t: [5100], v: [2] });
  assert.equal(currentRate('k2', 'depth'), null); // one sample: no rate yet
  forget('k2');
});

test('a field that appears later is padded with nulls; old samples leave the window', () => {
  record('k3', { a: 1 }, 0);
  record('k3', { a: 2, b: 7 }, 1000);
  assert.deepEqual(values('k3', 'b').v, [null, 7]);
  record('k3', { a: 3, b: 8 }, 1000 + WINDOW_MS + 1);
  assert.deepEqual(values('k3', 'a').t, [1000, 1000 + WINDOW_MS + 1]);
  forget('k3');
});

test('forget drops a key and everything under its prefix', () => {
  record('topic:t', { depth: 1 }, 0);
  record('topic:t@n1', { depth: 1 }, 0);
  record('topic:u', { depth: 1 }, 0);
  const before = size();
  forget('topic:t');
  assert.equal(size(), before - 2);
  assert.deepEqual(values('topic:t', 'depth'), { t: [], v: [] });
  forget('topic:u');
});
