#!/usr/bin/env node
// Starts a reference cluster (see lib/cluster.mjs for the environment variables) with the UI
// dev server and live traffic, prints the UI URL and runs until SIGINT / SIGTERM.
//   node tests/ui/dev-cluster.mjs [--no-traffic] [--base-path=/admin]
import { startCluster } from './lib/cluster.mjs';
import { startTraffic } from './lib/traffic.mjs';

const argv = process.argv.slice(2);
const basePath = (argv.find((a) => a.startsWith('--base-path=')) || '').split('=')[1] || undefined;
const cluster = await startCluster({ basePath });
const traffic = argv.includes('--no-traffic') ? { stop: async () => {} } : await startTraffic(cluster);
console.log(JSON.stringify({
  ui: cluster.url('/'),
  nsqadmin: cluster.admin.root,
  lookupd: cluster.lookupd.http,
  nsqd: cluster.nsqd.map((n) => ({ tcp: n.tcp, http: n.http })),
  dir: cluster.dir,
}, null, 2));
let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await traffic.stop();
  await cluster.stop();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
