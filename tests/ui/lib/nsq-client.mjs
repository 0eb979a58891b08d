// A minimal NSQ TCP protocol V2 consumer used to put clients with known state on channels:
// it can hold messages in flight, requeue them with a delay (deferred) or finish them.
import net from 'node:net';

const FRAME_RESPONSE = 0;
const FRAME_ERROR = 1;
const FRAME_MESSAGE = 2;

export class Consumer {
  /**
   * opts: addr "host:port", topic, channel, rdy, clientId, hostname, userAgent,
   *       mode: 'hold' (never FIN), 'finish', 'requeue' (REQ with requeueDelayMs)
   *       sampleRate, msgTimeout
   */
  constructor(opts) {
    this.opts = { rdy: 1, mode: 'hold', requeueDelayMs: 0, ...opts };
    this.received = [];
    this.buf = Buffer.alloc(0);
    this.pending = [];
  }

  async connect() {
    const [host, port] = this.opts.addr.split(':');
    this.sock = net.connect({ host, port: Number(port) });
    this.sock.on('data', (d) => this.onData(d));
    this.sock.on('error', () => {});
    this.closed = new Promise((r) => this.sock.once('close', r));
    await new Promise((resolve, reject) => {
      this.sock.once('connect', resolve);
      this.sock.once('error', reject);
    });
    this.sock.write('  V2');
    const identify = {
      client_id: this.opts.clientId ?? 'ui-test',
      hostname: this.opts.hostname ?? 'ui-test.local',
      user_agent: this.opts.userAgent ?? 'nsq-ui-test/1.0',
      feature_negotiation: false,
      heartbeat_interval: 30000,
    };
    if (this.opts.sampleRate) identify.sample_rate = this.opts.sampleRate;
    if (this.opts.msgTimeout) identify.msg_timeout = this.opts.msgTimeout;
    await this.command('IDENTIFY', [], JSON.stringify(identify));
    await this.command('SUB', [this.opts.topic, this.opts.channel]);
    this.sock.write(`RDY ${this.opts.rdy}\n`);
    return this;
  }

  command(name, params = [], body) {
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject, name });
      let line = [name, ...params].join(' ') + '\n';
      if (body !== undefined) {
        const b = Buffer.from(body);
        const size = Buffer.alloc(4);
        size.writeUInt32BE(b.length);
        this.sock.write(Buffer.concat([Buffer.from(line), size, b]));
      } else {
        this.sock.write(line);
      }
    });
  }

  onData(d) {
    this.buf = Buffer.concat([this.buf, d]);
    while (this.buf.length >= 8) {
      const size = this.buf.readUInt32BE(0);
      if (this.buf.length < 4 + size) break;
      const type = this.buf.readUInt32BE(4);
      const data = this.buf.subarray(8, 4 + size);
      this.buf = this.buf.subarray(4 + size);
      if (type === FRAME_RESPONSE) {
        const s = data.toString();
        if (s === '_heartbeat_') this.sock.write('NOP\n');
        else this.pending.shift()?.resolve(s);
      } else if (type === FRAME_ERROR) {
        this.pending.shift()?.reject(new Error(data.toString()));
      } else if (type === FRAME_MESSAGE) {
        const id = data.subarray(10, 26).toString();
        const body = data.subarray(26).toString();
        this.received.push({ id, body });
        if (this.opts.mode === 'finish') this.sock.write(`FIN ${id}\n`);
        else if (this.opts.mode === 'requeue') this.sock.write(`REQ ${id} ${this.opts.requeueDelayMs}\n`);
      }
    }
  }

  async close() {
    if (!this.sock || this.sock.destroyed) return;
    this.sock.destroy();
    await this.closed;
  }
}
