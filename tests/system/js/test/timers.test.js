'use strict'
// Deferred publish and requeue-with-delay through nsqjs. One daemon for
// this file, killed in after().

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

async function withScope(fn) {
  const scope = new h.Scope(daemon)
  try {
    await fn(scope)
  } finally {
    await scope.closeAll()
  }
}

test('deferred publish arrives after its delay, not before', async () => {
  await withScope(async (s) => {
    const topic = h.uniqueTopic('js_dpub')
    const w = await s.writer()
    const r = await s.reader(topic, 'ch')
    await h.waitTimersActive(w, r, topic)

    const delayMs = 1000
    await h.deferPublish(w, topic, 'later', delayMs)
    const publishedAt = Date.now()
    await h.publish(w, topic, 'now')
    const first = await h.nextMessage(r, 3000, 'immediate message')
    assert.equal(first.body.toString(), 'now', 'the immediate message overtakes the deferred one')
    first.finish()

    const second = await h.nextMessage(r, delayMs + 5000, 'deferred message')
    const elapsed = second.receivedAt - publishedAt
    assert.equal(second.body.toString(), 'later')
    assert.equal(second.attempts, 1)
    assert.ok(elapsed >= delayMs - 50, `deferred message arrived after ${elapsed} ms (< ${delayMs} ms)`)
    second.finish()
  })
})

test('requeue with a delay redelivers after the delay with attempts + 1', async () => {
  await withScope(async (s) => {
    const topic = h.uniqueTopic('js_req')
    const w = await s.writer()
    const r = await s.reader(topic, 'ch')
    await h.waitTimersActive(w, r, topic)

    await h.publish(w, topic, 'again')
    const first = await h.nextMessage(r, 3000, 'first delivery')
    assert.equal(first.attempts, 1)
    const delayMs = 800
    const requeuedAt = Date.now()
    first.requeue(delayMs, false) // no client-side backoff

    const second = await h.nextMessage(r, delayMs + 5000, 'redelivery')
    const gap = second.receivedAt - requeuedAt
    assert.equal(second.id, first.id)
    assert.equal(second.body.toString(), 'again')
    assert.equal(second.attempts, 2)
    assert.ok(gap >= delayMs - 50, `redelivered ${gap} ms after REQ (< ${delayMs} ms)`)

    // REQ 0 comes straight back
    second.requeue(0, false)
    const third = await h.nextMessage(r, 3000, 'redelivery after REQ 0')
    assert.equal(third.attempts, 3)
    third.finish()
    await h.expectNoMessage(r, 500, 'after FIN')
  })
})
