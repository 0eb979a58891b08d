'use strict'
// Shared helpers for the nsqjs system tests: start/stop an nsqd binary,
// connect nsqjs Writers/Readers, and wait on events with deadlines.

const { spawn } = require('node:child_process')
const fs = require('node:fs')
const net = require('node:net')
const os = require('node:os')
const path = require('node:path')
const { once } = require('node:events')
const nsq = require('nsqjs')

// Daemon under test: $NSQD_BIN, else <repo>/build/src/nsqd/nsqd where <repo>
// is two directories above tests/system (this file: tests/system/js/test/).
function nsqdBin() {
  if (process.env.NSQD_BIN) return path.resolve(process.env.NSQD_BIN)
  return path.resolve(__dirname, '..', '..', '..', '..', 'build', 'src', 'nsqd', 'nsqd')
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.unref()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
  })
}

const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

// Resolves with the promise's value, rejects if it takes longer than ms.
function withTimeout(promise, ms, what) {
  let timer
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

function canConnect(port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port })
    s.setTimeout(500)
    s.once('connect', () => {
      // A connect to a free port can pick that port as its own and "succeed" (TCP
      // self-connect) while the daemon is still starting: not listening yet.
      const self = s.localPort === s.remotePort && s.localAddress === s.remoteAddress
      s.destroy()
      resolve(!self)
    })
    s.once('error', () => resolve(false))
    s.once('timeout', () => {
      s.destroy()
      resolve(false)
    })
  })
}

// All daemons started by this process, killed on exit whatever happens.
const running = new Set()
process.on('exit', () => {
  for (const d of running) {
    try {
      d.child.kill('SIGKILL')
    } catch (_) {}
  }
})

// Starts nsqd on free loopback ports with a fresh data dir and waits until both
// ports accept connections. A port taken between freePort() and nsqd's bind makes
// nsqd exit at start-up: that is retried with new ports (3 attempts).
async function startNsqd(extraArgs = []) {
  const bin = nsqdBin()
  if (!fs.existsSync(bin)) throw new Error(`nsqd binary ${bin} not found (set NSQD_BIN)`)
  for (let attempt = 1; ; attempt++) {
    try {
      return await tryStartNsqd(bin, extraArgs)
    } catch (err) {
      if (attempt === 3 || !err.exitedAtStart) throw err
    }
  }
}

async function tryStartNsqd(bin, extraArgs) {
  const tcpPort = await freePort()
  const httpPort = await freePort()
  const dataPath = fs.mkdtempSync(path.join(os.tmpdir(), 'nsqjs-systest-'))
  const args = [
    `--tcp-address=127.0.0.1:${tcpPort}`,
    `--http-address=127.0.0.1:${httpPort}`,
    `--data-path=${dataPath}`,
    ...extraArgs,
  ]
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  const d = { child, tcpPort, httpPort, dataPath, host: '127.0.0.1', log: [], exited: false }
  const keep = (chunk) => {
    d.log.push(chunk.toString())
    if (d.log.length > 400) d.log.shift()
  }
  child.stdout.on('data', keep)
  child.stderr.on('data', keep)
  d.exitPromise = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      d.exited = true
      running.delete(d)
      resolve({ code, signal })
    })
  })
  child.once('error', (err) => keep(`spawn error: ${err}\n`))
  running.add(d)

  const deadline = Date.now() + 10000
  for (;;) {
    if (d.exited) {
      await stopNsqd(d)
      const err = new Error(`nsqd exited during start-up:\n${d.log.join('')}`)
      err.exitedAtStart = true
      throw err
    }
    // Both ports: nsqd listens on TCP before it binds HTTP, and a port taken meanwhile (by
    // any process's outgoing connection) makes it exit after TCP answered.
    if ((await canConnect(tcpPort)) && (await canConnect(httpPort))) return d
    if (Date.now() > deadline) {
      await stopNsqd(d)
      throw new Error(`nsqd ports ${tcpPort}/${httpPort} not accepting after 10 s:\n${d.log.join('')}`)
    }
    await delay(25) // poll interval, not synchronisation
  }
}

// SIGTERM, then SIGKILL after 5 s; removes the data dir.
async function stopNsqd(d) {
  if (!d) return
  if (!d.exited) {
    d.child.kill('SIGTERM')
    let timer
    const killed = new Promise((resolve) => {
      timer = setTimeout(() => {
        if (!d.exited) d.child.kill('SIGKILL')
        resolve()
      }, 5000)
    })
    await Promise.race([d.exitPromise, killed])
    clearTimeout(timer)
    await d.exitPromise
  }
  fs.rmSync(d.dataPath, { recursive: true, force: true })
}

// Everything a test opens is registered here and closed by closeAll().
class Scope {
  constructor(daemon) {
    this.d = daemon
    this.closers = []
  }

  async writer() {
    const w = new nsq.Writer(this.d.host, this.d.tcpPort)
    w.errors = []
    w.on('error', (err) => w.errors.push(err))
    const ready = once(w, 'ready')
    w.connect()
    this.closers.push(() => w.close())
    await withTimeout(ready, 5000, 'Writer ready')
    return w
  }

  // Reader subscribed to topic/channel; resolves once nsqd answered its SUB.
  // Messages go to handler(msg) if given, else into reader.queue (see
  // nextMessage).
  async reader(topic, channel, options = {}, handler = null) {
    const r = new nsq.Reader(topic, channel, {
      nsqdTCPAddresses: [`${this.d.host}:${this.d.tcpPort}`],
      maxInFlight: 1,
      ...options,
    })
    r.errors = []
    r.on('error', (err) => r.errors.push(err))
    r.queue = []
    r.waiters = []
    r.on('message', (msg) => {
      msg.receivedAt = Date.now()
      if (handler) return handler(msg)
      r.queue.push(msg)
      const waiter = r.waiters.shift()
      if (waiter) waiter()
    })
    const ready = once(r, 'ready')
    r.connect()
    this.closers.push(() => r.close())
    await withTimeout(ready, 5000, `Reader ${topic}/${channel} ready`)
    return r
  }

  async closeAll() {
    for (const close of this.closers.reverse()) {
      try {
        close()
      } catch (_) {}
    }
    this.closers = []
  }
}

// Next message delivered to reader r (rejects after ms).
function nextMessage(r, ms, what = 'a message') {
  if (r.queue.length > 0) return Promise.resolve(r.queue.shift())
  return new Promise((resolve, reject) => {
    const waiter = () => {
      clearTimeout(timer)
      resolve(r.queue.shift())
    }
    const timer = setTimeout(() => {
      r.waiters = r.waiters.filter((w) => w !== waiter)
      reject(new Error(`timed out after ${ms} ms waiting for ${what}`))
    }, ms)
    r.waiters.push(waiter)
  })
}

// Asserts that reader r gets nothing within ms.
async function expectNoMessage(r, ms, what) {
  let m
  try {
    m = await nextMessage(r, ms, what)
  } catch (_) {
    return
  }
  throw new Error(`unexpected message (${what}): ${m.body.toString().slice(0, 80)} attempts=${m.attempts}`)
}

function publish(w, topic, msgs) {
  return withTimeout(
    new Promise((resolve, reject) => w.publish(topic, msgs, (err) => (err ? reject(err) : resolve()))),
    5000,
    `publish to ${topic}`
  )
}

// nsqjs 0.13.0 quirk: Writer.deferPublish passes its message straight to a
// function that demands an array ("Expect an array of messages to
// produceMessages"), so the single message is wrapped in an array here.
function deferPublish(w, topic, msg, ms) {
  return withTimeout(
    new Promise((resolve, reject) =>
      w.deferPublish(topic, [msg], ms, (err) => (err ? reject(err) : resolve()))
    ),
    5000,
    `deferPublish to ${topic}`
  )
}

// The reference nsqd fires deferred and timed-out messages from a scanner
// that only knows the channels present at its last refresh (every 5 s), so
// on a channel created less than 5 s ago no deferral fires (the reference's queueScanLoop).
// Publish a 1 ms deferred canary and wait for it on reader r before timing
// anything on that channel; a server with exact timers passes at once.
async function waitTimersActive(w, r, topic) {
  const canary = `__timer_canary_${Date.now()}__`
  await deferPublish(w, topic, canary, 1)
  const m = await nextMessage(r, 10000, 'deferred canary')
  if (m.body.toString() !== canary) throw new Error(`expected canary, got ${m.body}`)
  m.finish()
}

let seq = 0
function uniqueTopic(prefix) {
  seq += 1
  return `${prefix}_${process.pid}_${seq}`
}

function bodies(prefix, n) {
  return Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(5, '0')}`)
}

module.exports = {
  Scope,
  bodies,
  deferPublish,
  delay,
  expectNoMessage,
  nextMessage,
  publish,
  startNsqd,
  stopNsqd,
  uniqueTopic,
  waitTimersActive,
  withTimeout,
}
