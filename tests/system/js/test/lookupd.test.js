'use strict'
// nsqjs discovery through nsqlookupd: a Reader that only knows the lookupd's HTTP address finds
// both nsqd of a small cluster and gets every message exactly once.
// NSQLOOKUPD_BIN selects the nsqlookupd (default <repo>/build/src/nsqlookupd/nsqlookupd).

const { test, after } = require('node:test')
const assert = require('node:assert/strict')
const { spawn } = require('node:child_process')
const http = require('node:http')
const path = require('node:path')
const nsq = require('nsqjs')
const h = require('./helpers')

function lookupdBin() {
  if (process.env.NSQLOOKUPD_BIN) return path.resolve(process.env.NSQLOOKUPD_BIN)
  return path.resolve(__dirname, '..', '..', '..', '..', 'build', 'src', 'nsqlookupd', 'nsqlookupd')
}

const started = []
after(async () => {
  for (const d of started.reverse()) {
    if (d.kind === 'nsqd') await h.stopNsqd(d)
    else if (d.child.exitCode === null) {
      d.child.kill('SIGTERM')
      await new Promise((resolve) => d.child.once('exit', resolve))
    }
  }
})

async function startLookupd() {
  const tcpPort = await freePort()
  const httpPort = await freePort()
  const child = spawn(
    lookupdBin(),
    [`--tcp-address=127.0.0.1:${tcpPort}`, `--http-address=127.0.0.1:${httpPort}`, '--broadcast-address=127.0.0.1'],
    { stdio: 'ignore' }
  )
  const d = { kind: 'lookupd', child, tcpPort, httpPort }
  started.push(d)
  const deadline = Date.now() + 10000
  while (!(await getJSON(httpPort, '/ping').catch(() => null))) {
    if (Date.now() > deadline) throw new Error('nsqlookupd did not start')
    await h.delay(25) // poll interval
  }
  return d
}

function freePort() {
  return new Promise((resolve) => {
    const srv = require('node:net').createServer()
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
  })
}

function getJSON(port, p) {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: p }, (res) => {
        let body = ''
        res.on('data', (c) => (body += c))
        res.on('end', () => {
          try {
            resolve(p === '/ping' ? body : JSON.parse(body))
          } catch (e) {
            reject(e)
          }
        })
      })
      .on('error', reject)
  })
}

test('Reader with lookupdHTTPAddresses consumes from every nsqd exactly once', async () => {
  const lk = await startLookupd()
  const topic = h.uniqueTopic('js_lookupd')
  const want = []
  const nodes = []
  for (let i = 0; i < 2; i++) {
    const d = await h.startNsqd([`--lookupd-tcp-address=127.0.0.1:${lk.tcpPort}`, '--broadcast-address=127.0.0.1'])
    d.kind = 'nsqd'
    started.push(d)
    nodes.push(d)
    const s = new h.Scope(d)
    const w = await s.writer()
    for (const b of h.bodies(`n${i}`, 40)) {
      await h.publish(w, topic, b)
      want.push(b)
    }
    await s.closeAll()
  }
  // Each nsqd registered the topic (the reader would otherwise see only part of the cluster).
  const deadline = Date.now() + 10000
  for (;;) {
    const doc = await getJSON(lk.httpPort, `/lookup?topic=${topic}`).catch(() => ({ producers: [] }))
    if ((doc.producers || []).length === 2) break
    if (Date.now() > deadline) throw new Error(`producers: ${JSON.stringify(doc)}`)
    await h.delay(50) // poll interval
  }

  const seen = new Map()
  let total = 0
  let resolveDone
  const done = new Promise((resolve) => (resolveDone = resolve))
  const r = new nsq.Reader(topic, 'ch', {
    lookupdHTTPAddresses: [`127.0.0.1:${lk.httpPort}`],
    lookupdPollInterval: 1,
    maxInFlight: 10,
  })
  r.on('error', () => {})
  r.on('message', (msg) => {
    const b = msg.body.toString()
    seen.set(b, (seen.get(b) || 0) + 1)
    total += 1
    msg.finish()
    if (total === want.length) resolveDone()
  })
  r.connect()
  try {
    // Messages wait in the topics (no channel yet): the reader's SUB creates "ch" on each nsqd.
    await h.withTimeout(done, 15000, 'all messages')
    await h.delay(300) // window for (wrong) extra deliveries
  } finally {
    r.close()
  }
  assert.equal(total, want.length)
  for (const b of want) assert.equal(seen.get(b), 1, `body ${b} delivered ${seen.get(b)} times`)
})
