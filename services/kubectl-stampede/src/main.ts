#!/usr/bin/env node
// Entry point of `kubectl stampede` (kubectl runs kubectl-stampede from PATH with the arguments after
// `stampede`): the user's kubeconfig, the real clock, stdio.
import { createNodeSignatureVerifier } from '@stampede/crypto';
import { run } from './cli.ts';

// The watches retry quietly; whatever they could not read shows up as the decision's reason.
const ignore = (): void => undefined;
const quiet = { debug: ignore, info: ignore, warn: ignore, error: ignore };

process.exitCode = await run(
  process.argv.slice(2),
  {
    stdout: text => process.stdout.write(`${text}\n`),
    stderr: text => process.stderr.write(`${text}\n`),
    now: () => Date.now(),
  },
  {
    verifier: createNodeSignatureVerifier(),
    connect: async ({ kubeconfig, context }) => {
      // Loaded when a command needs the cluster (the client library takes a while to load).
      const { createKubeClient, loadKubeConfig } = await import('@stampede/kube');
      const kubeConfig = loadKubeConfig({
        ...(kubeconfig === undefined ? {} : { path: kubeconfig }),
        env: process.env,
      });
      if (context !== undefined) kubeConfig.setCurrentContext(context);
      return createKubeClient({ kubeConfig, logger: quiet, userAgent: 'kubectl-stampede' });
    },
  },
);
