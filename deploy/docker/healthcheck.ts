// The image's HEALTHCHECK (distroless has no shell or curl): GET http://127.0.0.1:<port><path>,
// healthy on 200. Usage: node healthcheck.ts <PORT_VARIABLE> <path>; the port is read from that
// environment variable, so it follows the service's own configuration.
const [variable = 'HEALTH_PORT', path = '/healthz'] = process.argv.slice(2);
const port = process.env[variable] ?? '';
if (!/^\d{1,5}$/.test(port)) {
  process.stderr.write(`healthcheck: ${variable}=${JSON.stringify(port)} is not a port\n`);
  process.exit(1);
}
try {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, {
    signal: AbortSignal.timeout(2_500),
  });
  process.exit(response.status === 200 ? 0 : 1);
} catch (error) {
  process.stderr.write(`healthcheck: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
