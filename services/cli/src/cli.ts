// The stampede command line: argument parsing and dispatch. main.ts wires it to the process.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { runCheck } from './check.ts';
import type { CheckIo } from './check.ts';
import { runDemo } from './demo.ts';
import { InputError } from './report.ts';

export const USAGE = `usage: stampede <command> [options]

commands:
  check    decide one CertificateSigningRequest offline and print the decision as JSON
  demo     run the whole system locally (control plane, Redis, watcher, 2 workers, 200 kubelets);
           stampede demo --help for its options
  explain-samples
           the default policy over sample kubelet CSRs, printed as a table (= demo --offline)
  install-plugin [--dir DIR]
           put the kubectl plugin on PATH: writes DIR/kubectl-stampede (default ~/.local/bin),
           then \`kubectl stampede explain CSR\` and \`kubectl stampede pending\` work
  inventory-server
           the reference inventory webhook (evidence.require: [inventory]): vouches for the SANs
           a file lists per node; stampede inventory-server --help for its options

stampede check --csr FILE [--nodes FILE] [--service-cidr CIDR,...] [--policy FILE]
               [--not-authorized] [--inventory-answer FILE]
               [--served-certificate FILE --served-certificate-ca FILE] [--now TIME]
  --csr FILE        the CSR as \`kubectl get csr NAME -o json\` (or -o yaml) prints it; - reads stdin
  --nodes FILE      a Node or a List of Nodes (\`kubectl get nodes -o json\`); without it the
                    requester's Node is absent (retry, then NodeNotFound after the grace window)
  --service-cidr CIDR,...
                    the cluster's Service IP ranges (CIDRs or IPs; repeatable, comma- or
                    space-separated), e.g. the output of
                    \`kubectl get servicecidrs -o jsonpath='{.items[*].spec.cidrs[*]}'\`, or the
                    \`kubernetes\` Service's ClusterIP where there are none. An IP SAN inside one is
                    denied (ServiceIp). Without it the ranges are unknown, as to a worker that could
                    not read them: denials still show, but a CSR that passes everything else is a
                    retry (ServiceRangesUnavailable), not an approval. Not needed when the policy
                    sets reserved.serviceRanges: false
  --policy FILE     a policy file (YAML or JSON); default: the built-in default policy
  --not-authorized  assume the SubjectAccessReview refuses (default: it allows)
  --inventory-answer FILE
                    the inventory webhook's answer (an InventoryReview, JSON) for this CSR, read as
                    a worker reads it; only a policy with evidence.require: [inventory] uses it,
                    and without it such a policy's verdict is a retry (InventoryUnavailable)
  --served-certificate FILE --served-certificate-ca FILE
                    the certificate the requester's kubelet serves (PEM, e.g. from
                    \`openssl s_client -connect NODE_IP:10250 </dev/null | openssl x509\`) and the
                    kubelet-serving CA; read as a worker reads it while the inventory is down
                    (evidence.servedCertificate): without --inventory-answer it stands in for it
  --now TIME        evaluate at this RFC 3339 time instead of now
  -h, --help        show this help

Prints exactly one JSON object: {"decision": "approve"|"deny"|"ignore"|"retry", "reasons": [...], ...}.
Exit status: 0 when a decision was made (whatever it is), 2 on bad flags or unreadable input.`;

export interface Io extends CheckIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** The environment (install-plugin checks PATH); only main.ts reads process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

function parseCheck(args: string[]) {
  const { values } = parseArgs({
    args,
    strict: true,
    allowPositionals: false,
    options: {
      csr: { type: 'string' },
      nodes: { type: 'string' },
      policy: { type: 'string' },
      'service-cidr': { type: 'string', multiple: true },
      'not-authorized': { type: 'boolean', default: false },
      'inventory-answer': { type: 'string' },
      'served-certificate': { type: 'string' },
      'served-certificate-ca': { type: 'string' },
      now: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return 'help';
  if (values.csr === undefined) throw new InputError('check needs --csr FILE');
  const stdin = [values.csr, values.nodes, values.policy].filter(v => v === '-').length;
  if (stdin > 1) throw new InputError('only one of --csr, --nodes, --policy can read stdin');
  return {
    csr: values.csr,
    nodes: values.nodes,
    policy: values.policy,
    serviceCidrs: values['service-cidr'],
    notAuthorized: values['not-authorized'],
    inventoryAnswer: values['inventory-answer'],
    servedCertificate: values['served-certificate'],
    servedCertificateCa: values['served-certificate-ca'],
    now: values.now,
  };
}

/**
 * The real-pipeline demo, loaded only when asked for: it is the one part of the CLI that uses the
 * test harness (control plane, Redis, service processes), which `check` must never pull in.
 */
async function pipelineDemo(args: readonly string[], io: Io): Promise<number> {
  const { runPipelineDemo } = await import('./demo-pipeline.ts');
  return runPipelineDemo(args, {
    stdout: io.stdout,
    stderr: io.stderr,
    writeStderr: text => process.stderr.write(text),
    tty: process.stderr.isTTY,
    interrupted: () =>
      new Promise<void>(resolve => {
        process.once('SIGINT', () => {
          resolve();
        });
        process.once('SIGTERM', () => {
          resolve();
        });
      }),
  });
}

export const INVENTORY_SERVER_USAGE = `usage: stampede inventory-server --file FILE --cert FILE --key FILE
                                [--listen HOST:PORT] [--token-file FILE]

Serves InventoryReviews over HTTPS until SIGINT or SIGTERM: each SAN a review asks about is vouched
for when FILE lists it under the review's node, refused otherwise. FILE (YAML or JSON) is re-read
on every review:

  nodes:
    node-a: [node-a.example.com, 10.0.0.1]

  --listen HOST:PORT  default 127.0.0.1:8443 (port 0: any free port)
  --token-file FILE   require Authorization: Bearer <its content>`;

async function inventoryServer(args: readonly string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    strict: true,
    options: {
      file: { type: 'string' },
      cert: { type: 'string' },
      key: { type: 'string' },
      listen: { type: 'string', default: '127.0.0.1:8443' },
      'token-file': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    io.stdout(INVENTORY_SERVER_USAGE);
    return 0;
  }
  const { file, cert, key } = values;
  if (file === undefined || cert === undefined || key === undefined)
    throw new InputError('inventory-server needs --file, --cert and --key');
  const listen = /^(.+):(\d+)$/.exec(values.listen);
  if (!listen) throw new InputError(`--listen must be HOST:PORT, not ${values.listen}`);
  const tokenFile = values['token-file'];
  const { startInventoryServer } = await import('./inventory-server.ts');
  const server = await startInventoryServer({
    file,
    certPem: readFileSync(cert, 'utf8'),
    keyPem: readFileSync(key, 'utf8'),
    host: (listen[1] ?? '').replace(/^\[(.*)\]$/, '$1'),
    port: Number(listen[2]),
    ...(tokenFile === undefined ? {} : { token: readFileSync(tokenFile, 'utf8').trim() }),
  });
  io.stdout(`inventory-server: serving ${server.url} from ${file}`);
  await new Promise<void>(resolve => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
  return 0;
}

async function installPluginCommand(args: readonly string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    strict: true,
    options: { dir: { type: 'string' } },
  });
  const { DEFAULT_PLUGIN_DIR, installPlugin } = await import('./install-plugin.ts');
  const { file, onPath } = installPlugin({
    dir: values.dir ?? DEFAULT_PLUGIN_DIR,
    nodePath: process.execPath,
    pathEnv: io.env?.['PATH'],
  });
  io.stdout(`installed ${file}; try: kubectl stampede --help`);
  if (!onPath) io.stderr(`stampede: ${file} is not on PATH; add its directory to PATH`);
  return 0;
}

function demo(args: readonly string[], io: Io): Promise<number> | number {
  if (!args.includes('--offline')) return pipelineDemo(args, io);
  if (args.length > 1) throw new InputError('demo --offline takes no other arguments');
  io.stdout(runDemo(io.nowMs()));
  return 0;
}

async function dispatch(argv: readonly string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'check': {
      const options = parseCheck(rest);
      if (options === 'help') {
        io.stdout(USAGE);
        return 0;
      }
      io.stdout(JSON.stringify(await runCheck(options, io), null, 2));
      return 0;
    }
    case 'demo':
      return demo(rest, io);
    case 'inventory-server':
      return inventoryServer(rest, io);
    case 'install-plugin':
      return installPluginCommand(rest, io);
    case 'explain-samples':
      if (rest.length > 0) throw new InputError('explain-samples takes no arguments');
      io.stdout(runDemo(io.nowMs()));
      return 0;
    case '-h':
    case '--help':
    case 'help':
      io.stdout(USAGE);
      return 0;
    case undefined:
      io.stderr(USAGE);
      return 2;
    default:
      throw new InputError(`unknown command ${JSON.stringify(command)} (try --help)`);
  }
}

/** Runs the CLI; returns the exit status. Errors become one line on stderr and status 2. */
export async function run(argv: readonly string[], io: Io): Promise<number> {
  try {
    return await dispatch(argv, io);
  } catch (error) {
    const known =
      error instanceof InputError ||
      (error instanceof Error &&
        'code' in error &&
        String(error.code).startsWith('ERR_PARSE_ARGS'));
    if (!known) throw error;
    io.stderr(`stampede: ${error.message.split('\n')[0] ?? ''}`);
    return 2;
  }
}
