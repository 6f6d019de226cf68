// The image's HEALTHCHECK (distroless has no shell or curl): GET http://127.0.0.1:<port><path>.
// Usage: node healthcheck.ts <PORT_VARIABLE> <path> [<lowest>-<highest> healthy status, 200-200];
// the port is read from that environment variable, so it follows the service's own configuration.
// The dashboard has no health endpoint and puts everything behind basic auth: for it, any answer
// below 500 (401 included) means the server is up.
const [variable = 'HEALTH_PORT', path = '/healthz', accept = '200-200'] = process.argv.slice(2);
const [low = 200, high = 200] = accept.split('-').map(Number);
const port = process.env[variable] ?? '';
if (!/^\d{1,5}$/.test(port)) {
  process.stderr.write(`healthcheck: ${variable}=${JSON.stringify(port)} is not a port\n`);
  process.exit(1);
}
try {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, {
    signal: AbortSignal.timeout(2_500),
  });
  process.exit(response.status >= low && response.status <= high ? 0 : 1);
} catch (error) {
  process.stderr.write(`healthcheck: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
