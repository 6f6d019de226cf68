#!/usr/bin/env node
// The latency-bound profile's delay, in a process of its own so the load generator's busy event
// loop does not lengthen it: a loopback proxy to 127.0.0.1:<upstream port> holding every chunk
// <ms> in each direction. Prints its port on the first line of stdout; runs until killed or until
// its stdin closes (the parent is gone, however it ended).
// Run: node load-tests/src/delay-proxy-main.ts <upstream port> <ms>
import { FaultyTcpProxy } from '@stampede/harness';

const [upstream, ms] = process.argv.slice(2).map(Number);
if (upstream === undefined || ms === undefined || !(upstream > 0) || !(ms >= 0)) {
  process.stderr.write('usage: delay-proxy-main.ts <upstream port> <ms>\n');
  process.exit(2);
}
const proxy = await FaultyTcpProxy.start(upstream);
proxy.latency(ms);
process.stdout.write(`${proxy.port}\n`);
const stop = (): void => {
  void proxy.close().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.stdin.on('end', stop).on('close', stop).resume();
