/**
 * The published types work for a strict consumer without `skipLibCheck`: packs this checkout
 * (the built dist, so run `npm run build` first), installs the tarball into a fresh project,
 * and compiles a consumer of the public API with this repository's TypeScript. Every .d.ts the
 * consumer's program reaches is checked, Herald's and its dependencies' alike, so a public type
 * that drags in a dependency with broken declarations fails here. Needs no services; the
 * dependencies come from the local npm cache (`--offline`), or from the registry when the cache
 * lacks one (`--prefer-offline`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../helpers/env.js';

interface Run {
  code: number | null;
  out: string;
}

const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function run(cmd: string, args: string[], cwd: string, timeoutMs: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    // npm_config_* from an enclosing `npm test` (e.g. a workspace or global prefix) must not
    // leak into the consumer's install.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], shell: process.platform === 'win32' });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

// What a consumer writes: the publisher, configuration, events, errors and consumer types.
const CONSUMER = `import {
  ConfigError,
  HeraldError,
  createPublisher,
  loadConfig,
  type EventInput,
  type HeraldConfig,
  type HeraldEvent,
  type Publisher,
  type PublisherOptions,
  type Received,
  type SinkConfig,
} from 'herald';

const sinks: SinkConfig[] = [{ name: 'main', type: 'kafka', brokers: ['127.0.0.1:9092'], topic: 'events' }];
const options: PublisherOptions = { sinks, redact: { keys: ['password'] } };
const publisher: Publisher = createPublisher(options);

export async function publish(input: EventInput): Promise<string> {
  const event: HeraldEvent = await publisher.emit(input);
  await publisher.close();
  return event.id;
}

export function port(): number {
  const config: HeraldConfig = loadConfig({ env: {} });
  return config.server.port;
}

export function explain(err: unknown): string {
  if (err instanceof ConfigError) return err.details.map((d) => d.path).join(', ');
  return err instanceof HeraldError ? err.code : String(err);
}

export function decodedType(item: Received): string {
  return item.ok ? item.decoded.event.type : item.error.message;
}

// The types are real, not any: a wrong option is an error (an unused expect-error fails too).
// @ts-expect-error sinks is an array of sink configurations
createPublisher({ sinks: 'kafka' });
`;

test('a strict consumer compiles against the packed package without skipLibCheck', { timeout: 15 * 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-package-types-'));
  try {
    // --ignore-scripts: `prepare` would rebuild dist; the test checks the dist that was built.
    const pack = await run(NPM, ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], ROOT, 5 * 60_000);
    assert.equal(pack.code, 0, pack.out);
    const packed = (JSON.parse(pack.out.slice(pack.out.indexOf('['))) as Array<{ filename: string; files: Array<{ path: string }> }>)[0]!;
    const files = packed.files.map((f) => f.path);
    assert.ok(files.includes('LICENSE'), 'the LICENSE is packed');
    assert.ok(files.includes('dist/index.d.ts'), 'the types are packed (run npm run build first)');

    const consumer = join(dir, 'consumer');
    mkdirSync(consumer);
    writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'herald-types-consumer', version: '0.0.0', private: true, type: 'module' }, null, 2));
    writeFileSync(join(consumer, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        skipLibCheck: false,
        noEmit: true,
        types: ['node'],
      },
      include: ['index.ts'],
    }, null, 2));
    writeFileSync(join(consumer, 'index.ts'), CONSUMER);

    // A Node.js consumer has @types/node (Herald's types use Buffer and NodeJS.ProcessEnv);
    // the version this repository builds with. --ignore-scripts: native builds are not needed
    // to type-check.
    const typesNode = (JSON.parse(readFileSync(join(ROOT, 'node_modules', '@types', 'node', 'package.json'), 'utf8')) as { version: string }).version;
    const install = (mode: string) => run(NPM, ['install', mode, '--no-audit', '--no-fund', '--ignore-scripts', join(dir, packed.filename), `@types/node@${typesNode}`], consumer, 10 * 60_000);
    let installed = await install('--offline');
    if (installed.code !== 0) installed = await install('--prefer-offline');
    assert.equal(installed.code, 0, installed.out);

    const tsc = await run(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', consumer], consumer, 5 * 60_000);
    assert.equal(tsc.code, 0, `tsc in a strict consumer without skipLibCheck failed:\n${tsc.out}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
