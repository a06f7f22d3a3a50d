#!/usr/bin/env node
// The image's HEALTHCHECK (plain Node.js: the slim base has no curl or wget).
//
// For `herald serve` it asks GET /healthz on the port the command was given (--port, else
// HERALD_PORT, else 8080) and fails unless it answers 200. Every other command (emit, replay,
// connect-health, --help) serves no /healthz, so for those it reports healthy rather than
// marking a one-off or sidecar container unhealthy. The command is read from /proc/1/cmdline,
// the ENTRYPOINT's process (`node /usr/local/bin/herald serve ...`, also behind
// `docker run --init`); a file given as the first argument replaces it (for tests).
// A port set only in a --config file is not seen here: set HERALD_PORT as well.
import { readFileSync } from 'node:fs';

let cmdline = [];
try {
  cmdline = readFileSync(process.argv[2] ?? '/proc/1/cmdline', 'utf8').split('\0').filter((a) => a !== '');
} catch {
  process.exit(0); // not on Linux / no procfs: nothing to judge
}
const at = cmdline.findIndex((a) => /(^|\/)(herald|main\.js)$/.test(a));
const args = at === -1 ? [] : cmdline.slice(at + 1);
if (args[0] !== 'serve' || args.includes('--help') || args.includes('-h')) process.exit(0);

/** The value of --NAME VALUE or --NAME=VALUE, as herald's flag parser reads them. */
function flag(name) {
  for (let i = 1; i < args.length; i++) {
    if (args[i] === `--${name}`) return args[i + 1];
    if (args[i].startsWith(`--${name}=`)) return args[i].slice(name.length + 3);
  }
  return undefined;
}

const port = flag('port') ?? (process.env.HERALD_PORT || '8080');
const bind = flag('host') ?? (process.env.HERALD_HOST || '127.0.0.1');
// A wildcard bind is reached on loopback; an IPv6 literal needs brackets in a URL.
const host = bind === '0.0.0.0' ? '127.0.0.1' : bind === '::' || bind === '[::]' ? '[::1]' : bind.includes(':') && !bind.startsWith('[') ? `[${bind}]` : bind;
const url = `http://${host}:${port}/healthz`;
try {
  const res = await fetch(url, { signal: AbortSignal.timeout(4000) });
  if (res.status === 200) process.exit(0);
  console.error(`herald healthcheck: ${url} answered ${res.status}`);
} catch (err) {
  console.error(`herald healthcheck: ${url}: ${err.cause?.code ?? err.message}`);
}
process.exit(1);
