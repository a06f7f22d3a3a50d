/**
 * The Dockerfile's promises, read from the file: a pinned base image (the same tag in both
 * stages), a numeric non-root USER owning /data (the volume the SQLite store is on), the
 * environment that binds 0.0.0.0 but requires write tokens (checked through the config loader
 * itself), a HEALTHCHECK with node, OCI labels matching package.json, and COPY sources that exist
 * and are not excluded by .dockerignore. There is no Docker engine in the test environment: the
 * image is not built here. The health check script is run for real against a local server.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkServeConfig, loadConfig } from '../../src/config/index.js';
import { ConfigError } from '../../src/errors.js';
import { ROOT } from '../helpers/env.js';

interface Instruction {
  op: string;
  args: string;
}

/** Instructions with continuation lines joined and comments dropped, split into stages. */
function parseDockerfile(text: string): Instruction[][] {
  const logical = text
    .split('\n')
    .filter((l) => !/^\s*#/.test(l))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const stages: Instruction[][] = [];
  for (const line of logical) {
    const m = /^(\w+)\s+(.*)$/.exec(line);
    assert.ok(m, `a Dockerfile instruction: ${line}`);
    const ins = { op: m[1]!.toUpperCase(), args: m[2]!.replace(/\s+/g, ' ') };
    if (ins.op === 'FROM') stages.push([ins]);
    else if (stages.length > 0) stages.at(-1)!.push(ins);
    else assert.equal(ins.op, 'ARG', `${ins.op} before the first FROM`);
  }
  return stages;
}

/** KEY=VALUE pairs of an ENV or LABEL instruction (values optionally double-quoted). */
function pairs(args: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of args.matchAll(/([\w.-]+)=(?:"((?:[^"\\]|\\.)*)"|(\S*))/g)) out.set(m[1]!, m[2] ?? m[3] ?? '');
  return out;
}

const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const stages = parseDockerfile(text);
const runtime = stages.at(-1)!;
const all = (op: string, stage: Instruction[] = runtime) => stage.filter((i) => i.op === op);
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; license: string; engines: { node: string } };
const env = new Map(all('ENV').flatMap((i) => [...pairs(i.args)]));
const labels = new Map(all('LABEL').flatMap((i) => [...pairs(i.args)]));
const user = all('USER').at(-1)?.args;

describe('Dockerfile', () => {
  it('pins the base image to one full Node.js 20 version tag in every stage', () => {
    assert.equal(stages.length, 2, 'a build and a runtime stage');
    const images = stages.map((s) => s[0]!.args.split(' ')[0]!);
    for (const image of images) {
      // A full version and distribution: node:20-slim or :latest would move under the build.
      assert.match(image, /^node:20\.\d+\.\d+-[a-z]+-slim(@sha256:[0-9a-f]{64})?$/, `${image} is pinned`);
    }
    assert.equal(new Set(images).size, 1, `both stages use the same image: ${images.join(', ')}`);
    // At least what package.json's engines asks for.
    const [major, minor] = images[0]!.slice('node:'.length).split('.').map(Number) as [number, number];
    const engine = /^>=(\d+)\.(\d+)/.exec(pkg.engines.node);
    assert.ok(engine, `engines.node ${pkg.engines.node}`);
    assert.ok(major > Number(engine[1]) || (major === Number(engine[1]) && minor >= Number(engine[2])), `${images[0]} satisfies ${pkg.engines.node}`);
  });

  it('runs as a numeric non-root user that owns /data, the declared volume', () => {
    assert.ok(user !== undefined, 'a USER in the runtime stage');
    assert.match(user, /^\d+(:\d+)?$/, 'numeric, so runAsNonRoot can verify it');
    assert.doesNotMatch(user, /^0(:|$)/);
    const run = all('RUN').map((i) => i.args).join(' && ');
    assert.match(run, /mkdir -p \/data\b/);
    const chown = /chown (\S+) \/data\b/.exec(run);
    assert.ok(chown, 'chown of /data');
    assert.equal(chown[1], user.includes(':') ? user : `${user}:${user}`, '/data belongs to the USER');
    assert.ok(all('VOLUME').some((v) => /(^|[\s"[])\/data([\s"\]]|$)/.test(v.args)), 'VOLUME /data');
    // USER comes after the RUN that prepares /data (it needs root).
    const ops = runtime.map((i) => i.op);
    assert.ok(ops.lastIndexOf('RUN') < ops.lastIndexOf('USER'));
    assert.equal(all('ENTRYPOINT').at(-1)?.args, '["herald"]');
  });

  it('binds 0.0.0.0 with tokens required and the store on /data, as the config loader reads it', () => {
    assert.equal(env.get('HERALD_HOST'), '0.0.0.0');
    assert.equal(env.get('HERALD_REQUIRE_TOKENS'), 'true');
    assert.equal(env.get('HERALD_DB'), 'sqlite:/data/herald.db');
    const imageEnv = Object.fromEntries(env);
    const config = loadConfig({ env: imageEnv });
    assert.equal(config.server.host, '0.0.0.0');
    assert.equal(config.store.url, 'sqlite:/data/herald.db');
    assert.equal(config.auth.requireTokens, true);
    // The image alone refuses to serve; with HERALD_API_TOKENS (docker run -e) it serves.
    assert.throws(() => checkServeConfig(config), (err: unknown) => err instanceof ConfigError && /HERALD_API_TOKENS/.test(err.message));
    checkServeConfig(loadConfig({ env: { ...imageEnv, HERALD_API_TOKENS: 'run-time-token-1' } }));
  });

  it('has a HEALTHCHECK that runs the shipped script with node', () => {
    const hc = all('HEALTHCHECK');
    assert.equal(hc.length, 1);
    const m = /CMD (\[.*\])$/.exec(hc[0]!.args);
    assert.ok(m, 'exec-form CMD');
    const cmd = JSON.parse(m[1]!) as string[];
    assert.equal(cmd[0], 'node', 'node: the slim image has no curl');
    assert.match(hc[0]!.args, /--timeout=\d+s/);
    const copied = all('COPY').map((c) => c.args.split(' ')).find((a) => a.at(-1) !== undefined && join('/app', a.at(-1)!) === cmd[1]);
    assert.ok(copied, `${cmd[1]} is copied into the image`);
    assert.ok(existsSync(join(ROOT, copied[0]!)), `${copied[0]} exists`);
  });

  it('has OCI labels matching package.json', () => {
    for (const k of ['title', 'description', 'licenses', 'source', 'version']) {
      assert.ok(labels.has(`org.opencontainers.image.${k}`), `label org.opencontainers.image.${k}`);
    }
    assert.equal(labels.get('org.opencontainers.image.title'), 'herald');
    assert.equal(labels.get('org.opencontainers.image.licenses'), pkg.license);
    assert.equal(labels.get('org.opencontainers.image.version'), pkg.version);
    assert.ok(labels.get('org.opencontainers.image.description')!.length > 20);
  });

  it('copies only what exists and .dockerignore keeps', () => {
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
    assert.ok(ignored.includes('node_modules') && ignored.includes('dist'), 'host builds stay out of the context');
    for (const stage of stages) {
      for (const c of all('COPY', stage).filter((c) => !c.args.startsWith('--from='))) {
        for (const src of c.args.split(' ').slice(0, -1)) {
          assert.ok(existsSync(join(ROOT, src)), `COPY source ${src} exists`);
          assert.ok(!ignored.includes(src.split('/')[0]!), `COPY source ${src} is not in .dockerignore`);
        }
      }
    }
    // `npm ci` runs prepare = npm run build, which needs the build scripts in the context.
    assert.ok(all('COPY', stages[0]).some((c) => c.args.startsWith('scripts ')), 'the build stage copies scripts/');
    assert.ok(existsSync(join(ROOT, 'LICENSE')));
  });
});

describe('docker/healthcheck.mjs', () => {
  const script = join(ROOT, 'docker', 'healthcheck.mjs');
  const dir = mkdtempSync(join(tmpdir(), 'herald-healthcheck-'));

  /** Runs the check as the container would, with `argv` as PID 1's command line. */
  function check(argv: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stderr: string }> {
    const file = join(dir, `cmdline-${Math.random().toString(36).slice(2)}`);
    writeFileSync(file, argv.join('\0') + '\0');
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [script, file], {
        env: { PATH: process.env.PATH ?? '', ...extraEnv },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stderr }));
    });
  }

  async function serverAnswering(status: number): Promise<{ server: Server; port: number; paths: string[] }> {
    const paths: string[] = [];
    const server = createServer((req, res) => {
      paths.push(req.url ?? '');
      res.statusCode = req.url === '/healthz' ? status : 404;
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { server, port: (server.address() as { port: number }).port, paths };
  }

  it('passes for commands that serve no /healthz', async () => {
    for (const argv of [['node', '/usr/local/bin/herald', '--help'], ['node', '/usr/local/bin/herald', 'connect-health', '--port', '1'], ['node', '/usr/local/bin/herald', 'serve', '--help'], ['/bin/sh']]) {
      assert.equal((await check(argv)).code, 0, argv.join(' '));
    }
  });

  it('asks /healthz of serve on --port, --port=, HERALD_PORT; fails when it is down or not 200', async () => {
    const ok = await serverAnswering(200);
    const bad = await serverAnswering(503);
    try {
      assert.equal((await check(['node', '/usr/local/bin/herald', 'serve', '--port', String(ok.port)])).code, 0);
      assert.equal((await check(['node', '/usr/local/bin/herald', 'serve', `--port=${ok.port}`], { HERALD_HOST: '0.0.0.0' })).code, 0);
      // `docker run --init`: PID 1 is the init process, herald its argument.
      assert.equal((await check(['/sbin/docker-init', '--', 'herald', 'serve'], { HERALD_PORT: String(ok.port) })).code, 0);
      assert.deepEqual([...new Set(ok.paths)], ['/healthz']);
      const unhealthy = await check(['node', '/app/dist/cli/main.js', 'serve', '--port', String(bad.port)]);
      assert.equal(unhealthy.code, 1);
      assert.match(unhealthy.stderr, /answered 503/);
    } finally {
      ok.server.close();
      bad.server.close();
    }
    const down = await check(['node', '/usr/local/bin/herald', 'serve', '--port', String(ok.port)]);
    assert.equal(down.code, 1);
    assert.match(down.stderr, /ECONNREFUSED/);
    rmSync(dir, { recursive: true, force: true });
  });
});
