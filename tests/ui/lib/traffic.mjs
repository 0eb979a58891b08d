// Puts realistic traffic on a test cluster: publishers at different rates, real go-nsq
// consumers (the reference's nsq_tail, with snappy / deflate) and protocol-level consumers that
// hold messages in flight or requeue them (deferred), so every column of the UI has data.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { nsqd, sleep } from './cluster.mjs';
import { Consumer } from './nsq-client.mjs';

const NSQ_TAIL = process.env.NSQ_TAIL_BIN || '/work/refbin/nsq_tail';

export async function startTraffic(cluster, { publish = true } = {}) {
  const [a, b] = [cluster.nsqd[0], cluster.nsqd[1] || cluster.nsqd[0]];
  const stops = [];
  const create = async (node, topic, channels) => {
    await nsqd.createTopic(node.http, topic);
    for (const c of channels) await nsqd.createChannel(node.http, topic, c);
  };
  await create(a, 'orders', ['archive', 'analytics', 'billing', 'fraud-check']);
  await create(b, 'orders', ['archive', 'analytics', 'billing', 'fraud-check']);
  await create(a, 'clicks', ['stream-processor', 'warehouse']);
  await create(b, 'emails', ['sender']);
  await create(a, 'payments', ['ledger', 'notify']);
  await create(b, 'payments', ['ledger', 'notify']);
  await create(a, 'audit-log', []);
  await create(b, 'user-signups', ['welcome-email', 'crm-sync']);

  // initial backlog so depths are not all zero
  await nsqd.mpub(a.http, 'orders', Array.from({ length: 120 }, (_, i) => `order-${i}`));
  await nsqd.mpub(b.http, 'orders', Array.from({ length: 80 }, (_, i) => `order-b-${i}`));
  await nsqd.mpub(a.http, 'payments', Array.from({ length: 40 }, (_, i) => `pay-${i}`));
  await nsqd.mpub(a.http, 'audit-log', Array.from({ length: 350 }, (_, i) => `audit-${i}`));

  await fetch(`http://${a.http}/channel/pause?topic=clicks&channel=warehouse`, { method: 'POST' });
  await fetch(`http://${a.http}/topic/pause?topic=payments`, { method: 'POST' });
  await fetch(`http://${b.http}/topic/pause?topic=payments`, { method: 'POST' });

  const tails = [];
  if (fs.existsSync(NSQ_TAIL) && cluster.lookupd?.http) {
    const tail = (topic, channel, opts = []) => {
      const p = spawn(NSQ_TAIL, [`--topic=${topic}`, `--channel=${channel}`, `--lookupd-http-address=${cluster.lookupd.http}`, ...opts], { stdio: 'ignore' });
      tails.push(p);
    };
    tail('orders', 'billing', ['--consumer-opt=snappy,true']);
    tail('orders', 'analytics', ['--consumer-opt=deflate,true', '--consumer-opt=deflate_level,6']);
    tail('clicks', 'stream-processor');
    tail('clicks', 'stream-processor', ['--consumer-opt=sample_rate,50']);
    tail('user-signups', 'welcome-email');
  }
  stops.push(async () => {
    for (const p of tails) p.kill('SIGTERM');
    await Promise.all(tails.map((p) => (p.exitCode === null ? new Promise((r) => p.once('exit', r)) : null)));
  });

  const consumers = [
    new Consumer({ addr: a.tcp, topic: 'orders', channel: 'fraud-check', rdy: 5, mode: 'hold', clientId: 'fraud-worker-1', hostname: 'fraud-worker-1.internal', userAgent: 'fraud-checker/2.4 (node)' }),
    new Consumer({ addr: b.tcp, topic: 'orders', channel: 'fraud-check', rdy: 3, mode: 'requeue', requeueDelayMs: 600000, clientId: 'fraud-worker-2', hostname: 'fraud-worker-2.internal', userAgent: 'fraud-checker/2.4 (node)' }),
    new Consumer({ addr: b.tcp, topic: 'emails', channel: 'sender', rdy: 10, mode: 'finish', clientId: 'mailer', hostname: 'mailer-7f9c.internal', userAgent: 'mailer/1.0' }),
    new Consumer({ addr: b.tcp, topic: 'user-signups', channel: 'crm-sync', rdy: 2, mode: 'finish', clientId: 'crm', hostname: 'crm-sync.internal', userAgent: 'crm-sync/0.9' }),
  ];
  for (const c of consumers) await c.connect();
  stops.push(() => Promise.all(consumers.map((c) => c.close())));

  let running = publish;
  let n = 0;
  const loop = (async () => {
    while (running) {
      n++;
      const jobs = [
        nsqd.mpub(a.http, 'clicks', Array.from({ length: 20 + (n % 7) * 3 }, (_, i) => `click-${n}-${i}`)),
        nsqd.mpub(a.http, 'orders', [`o-${n}-1`, `o-${n}-2`, `o-${n}-3`]),
        nsqd.mpub(b.http, 'orders', [`o-b-${n}`, `o-b-${n}-2`]),
        nsqd.pub(b.http, 'emails', `mail-${n}`),
        nsqd.pub(a.http, 'audit-log', `audit-${n}`),
      ];
      if (n % 3 === 0) jobs.push(nsqd.pub(b.http, 'user-signups', `user-${n}`));
      if (n % 2 === 0) jobs.push(nsqd.pub(a.http, 'payments', `pay-${n}`));
      await Promise.allSettled(jobs);
      await sleep(500);
    }
  })();
  stops.push(async () => { running = false; await loop; });

  return {
    stop: async () => {
      for (const s of stops.reverse()) await s().catch(() => {});
    },
  };
}
