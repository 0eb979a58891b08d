// web/format.js under node: the numbers every page shows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ago, clientState, commafy, compact, duration, nanos, quantile, rate } from '../../../web/format.js';

test('commafy groups thousands and shows a dash for nothing', () => {
  assert.equal(commafy(1234567), '1,234,567');
  assert.equal(commafy(0), '0');
  assert.equal(commafy(null), '–');
  assert.equal(commafy(undefined), '–');
  assert.equal(commafy(NaN), '–');
});

test('compact picks the unit and the precision', () => {
  assert.equal(compact(999), '999');
  assert.equal(compact(1234), '1.23k');
  assert.equal(compact(12345), '12.3k');
  assert.equal(compact(123456), '123k');
  assert.equal(compact(1234567), '1.23M');
  assert.equal(compact(-2500000000), '-2.50B');
  assert.equal(compact(3.14159), '3.14');
  assert.equal(compact(null), '–');
});

test('rate trims zeros and goes compact past 1000/s', () => {
  assert.equal(rate(0), '0');
  assert.equal(rate(0.25), '0.25');
  assert.equal(rate(2), '2');
  assert.equal(rate(12.34), '12.3');
  assert.equal(rate(40), '40');
  assert.equal(rate(12345), '12.3k');
  assert.equal(rate(null), '–');
});

test('nanos and duration', () => {
  assert.equal(nanos(850), '850ns');
  assert.equal(nanos(850000), '850µs');
  assert.equal(nanos(1200000), '1.2ms');
  assert.equal(nanos(3.4e9), '3.4s');
  assert.equal(nanos(100e6), '100ms'); // whole numbers keep their zeros
  assert.equal(nanos(1.5e6), '1.5ms');
  assert.equal(duration(42e9), '42s');
  assert.equal(duration((5 * 60 + 12) * 1e9), '5m 12s');
  assert.equal(duration((3600 + 4 * 60) * 1e9), '1h 4m');
  assert.equal(duration((2 * 86400 + 3 * 3600) * 1e9), '2d 3h');
  assert.equal(duration(-5), '0s');
});

test('quantile labels, ago and client states', () => {
  assert.equal(quantile(0.99), 'p99');
  assert.equal(quantile(0.999), 'p99.9');
  assert.equal(quantile(1), 'max');
  assert.equal(ago(500), 'just now');
  assert.equal(ago(12000), '12s ago');
  assert.equal(ago(180000), '3m ago');
  assert.equal(clientState(3), 'subscribed');
  assert.equal(clientState(9), '9');
});
