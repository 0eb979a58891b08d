'use strict'
// nsqjs Writer/Reader against nsqd: exact counts, MPUB, big messages,
// consumers sharing a channel. One daemon for this file, killed in after().

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const h = require('./helpers')

let daemon

before(async () => {
  daemon = await h.startNsqd()
})

after(async () => {
  await h.stopNsqd(daemon)
})

// Calls fn with a Scope whose Writers/Readers are closed afterwards.
async function withScope(fn) {
  const scope = new h.Scope(daemon)
  try {
    await fn(scope)
  } finally {
    await scope.closeAll()
  }
}

// Counts deliveries by body; resolves when total reaches n.
function counter(n) {
  const c = { seen: new Map(), total: 0 }
  c.done = new Promise((resolve) => {
    c.handle = (msg) => {
      const b = msg.body.toString()
      c.seen.set(b, (c.seen.get(b) || 0) + 1)
      c.total += 1
      msg.finish()
      if (c.total === n) resolve()
    }
  })
  return c
}

function assertExactlyOnce(seen, want) {
  assert.equal(seen.size, want.length, 'distinct bodies')
  for (const b of want) assert.equal(seen.get(b), 1, `body ${b} delivered ${seen.get(b)} times`)
}

test('publish single messages and consume them counted exactly', async () => {
  await withScope(async (s) => {
    const topic = h.uniqueTopic('js_pub')
    const w = await s.writer()
    const want = h.bodies('single', 100)
    for (const b of want) await h.publish(w, topic, b)

    const c = counter(want.length)
    await s.reader(topic, 'ch', {}, c.handle)
    await h.withTimeout(c.done, 10000, 'all messages')
    await h.delay(300) // window for (wrong) extra deliveries
    assert.equal(c.total, want.length)
    assertExactlyOnce(c.seen, want)
    assert.deepEqual(w.errors, [])
  })
})

test('publish arrays (MPUB) and consume them counted exactly', async () => {
  await withScope(async (s) => {
    const topic = h.uniqueTopic('js_mpub')
    const w = await s.writer()
    let want = []
    for (let i = 0; i < 5; i++) {
      const batch = h.bodies(`batch${i}`, 40)
      await h.publish(w, topic, batch)
      want = want.concat(batch)
    }
    const c = counter(want.length)
    await s.reader(topic, 'ch', { maxInFlight: 25 }, c.handle)
    await h.withTimeout(c.done, 10000, 'all MPUB messages')
    await h.delay(300)
    assert.equal(c.total, want.length)
    assertExactlyOnce(c.seen, want)
  })
})

test('PUB and MPUB keep publish order on one channel', async () => {
  await withScope(async (s) => {
    const topic = h.uniqueTopic('js_order')
    const w = await s.writer()
    const r = await s.reader(topic, 'ch')
    await h.publish(w, topic, 'a')
    await h.publish(w, topic, ['b', 'c', 'd'])
    await h.publish(w, topic, ['e']) // nsqjs sends an array of one as PUB
    const got = []
    for (let i = 0; i < 5; i++) {
      const m = await h.nextMessage(r, 5000, `message ${i}`)
      got.push(m.body.toString())
      assert.equal(m.attempts, 1)
      m.finish()
    }
    assert.deepEqual(got, ['a', 'b', 'c', 'd', 'e'])
  })
})

test('a message bigger than 100 KB round-trips intact', async () => {
  await withScope(async (s) => {
    const topic = h.uniqueTopic('js_big')
    const w = await s.writer()
    const r = await s.reader(topic, 'ch')
    const big = Buffer.alloc(300 * 1024)
    for (let i = 0; i < big.length; i++) big[i] = (i * 7 + 13) & 0xff
    await h.publish(w, topic, big)
    // and two big ones in one MPUB
    const big2 = Buffer.alloc(120 * 1024, 'x')
    const big3 = Buffer.alloc(101 * 1024, 'y')
    await h.publish(w, topic, [big2, big3])

    for (const want of [big, big2, big3]) {
      const m = await h.nextMessage(r, 5000, 'big message')
      assert.equal(m.body.length, want.length)
      assert.ok(m.body.equals(want), 'big body differs')
      m.finish()
    }
  })
})

test('two readers on one channel split the messages, each exactly once', async () => {
  await withScope(async (s) => {
    const topic = h.uniqueTopic('js_split')
    const n = 200
    const seen = new Map()
    const per = [0, 0]
    let total = 0
    let resolveDone
    const done = new Promise((resolve) => (resolveDone = resolve))
    const handler = (idx) => (msg) => {
      const b = msg.body.toString()
      seen.set(b, (seen.get(b) || 0) + 1)
      per[idx] += 1
      total += 1
      msg.finish()
      if (total === n) resolveDone()
    }
    await s.reader(topic, 'shared', {}, handler(0))
    await s.reader(topic, 'shared', {}, handler(1))
    const w = await s.writer()
    const want = h.bodies('split', n)
    for (const b of want) await h.publish(w, topic, b)
    await h.withTimeout(done, 10000, 'all split messages')
    await h.delay(300)
    assert.equal(total, n)
    assertExactlyOnce(seen, want)
    assert.ok(per[0] > 0 && per[1] > 0, `not split: ${per[0]} / ${per[1]}`)
  })
})

test('two channels each get every message', async () => {
  await withScope(async (s) => {
    const topic = h.uniqueTopic('js_fan')
    const want = h.bodies('fan', 60)
    const ca = counter(want.length)
    const cb = counter(want.length)
    // Readers resolve after nsqd acknowledged SUB, so both channels exist
    // before the first publish.
    await s.reader(topic, 'a', { maxInFlight: 10 }, ca.handle)
    await s.reader(topic, 'b', { maxInFlight: 10 }, cb.handle)
    const w = await s.writer()
    await h.publish(w, topic, want.slice(0, 30))
    for (const b of want.slice(30)) await h.publish(w, topic, b)
    await h.withTimeout(Promise.all([ca.done, cb.done]), 10000, 'both channels')
    await h.delay(300)
    assertExactlyOnce(ca.seen, want)
    assertExactlyOnce(cb.seen, want)
  })
})

test('publishing to an invalid topic name fails', async () => {
  await withScope(async (s) => {
    const w = await s.writer()
    await assert.rejects(h.publish(w, 'bad!topic', 'x'), /E_BAD_TOPIC/)
  })
})
