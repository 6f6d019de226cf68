// Entry point: `node services/cli/src/main.ts <command>` (./run stampede …, ./run demo).
import { text } from 'node:stream/consumers';
import { run } from './cli.ts';

process.exitCode = await run(process.argv.slice(2), {
  stdout: line => process.stdout.write(`${line}\n`),
  stderr: line => process.stderr.write(`${line}\n`),
  readStdin: () => text(process.stdin),
  nowMs: () => Date.now(),
  env: process.env,
});
