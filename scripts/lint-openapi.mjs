#!/usr/bin/env node
// `npm run lint:openapi`: builds the REST API's OpenAPI document the way `herald serve` serves it
// at /openapi.json, without listening on any port (an in-memory SQLite store, app.ready(),
// app.swagger()), and lints it with Redocly CLI against redocly.yaml. The document is built from
// the sources (through tsx), so a stale dist/ cannot hide a problem. It is built twice, without
// tokens and with API and read tokens, since the security requirements depend on them. Any
// error or warning fails (exit 1).
//   --out DIR   keep the documents (openapi.json, openapi-tokens.json) in DIR
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { tsImport } from 'tsx/esm/api';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
let options;
try {
  ({ values: options } = parseArgs({ options: { out: { type: 'string' } }, strict: true }));
} catch (err) {
  console.error(`${err.message}\nusage: node scripts/lint-openapi.mjs [--out DIR]`);
  process.exit(2);
}

const from = (path) => tsImport(join(ROOT, path), import.meta.url);
const { buildApp } = await from('src/api/index.ts');
const { loadConfig } = await from('src/config/index.ts');
const { openDurablePipeline } = await from('src/pipeline/durable.ts');
const { silentLogger } = await from('src/log.ts');

/** The document of an app with `env` as its whole environment (the caller's HERALD_* are ignored). */
async function documentFor(env) {
  const config = loadConfig({ env });
  const pipeline = await openDurablePipeline({ storeUrl: 'sqlite::memory:', sinks: config.sinks, streaming: config.streaming, startRelays: false, logger: silentLogger });
  try {
    const app = await buildApp({ store: pipeline.store, ingest: pipeline.ingest, sinks: pipeline.outbox, config });
    try {
      return app.swagger();
    } finally {
      await app.close();
    }
  } finally {
    await pipeline.close();
  }
}

const dir = options.out !== undefined ? resolve(options.out) : mkdtempSync(join(tmpdir(), 'herald-openapi-'));
mkdirSync(dir, { recursive: true });
const files = [
  [join(dir, 'openapi.json'), {}],
  [join(dir, 'openapi-tokens.json'), { HERALD_API_TOKENS: 'openapi-lint-write-token-0123456789', HERALD_READ_TOKENS: 'openapi-lint-read-token-0123456789' }],
];

/** Lints one document; returns its problems as `redocly lint --format json` reports them. */
function lint(file) {
  const run = spawnSync(process.execPath, [
    join(ROOT, 'node_modules', '@redocly', 'cli', 'bin', 'cli.js'), 'lint', '--config', join(ROOT, 'redocly.yaml'),
    '--format', 'json', '--max-problems', '1000', file,
  ], {
    cwd: ROOT,
    encoding: 'utf8',
    // Linting is local: no telemetry and no update check.
    env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' },
    maxBuffer: 64 * 1024 * 1024,
  });
  try {
    return { status: run.status, ...JSON.parse(run.stdout) };
  } catch {
    throw new Error(`redocly lint did not report on ${basename(file)} (exit ${run.status ?? run.signal}):\n${run.error?.message ?? run.stderr}`);
  }
}

let code = 1;
try {
  let errors = 0;
  let warnings = 0;
  let failed = false;
  for (const [file, env] of files) {
    const doc = await documentFor(env);
    writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);
    const result = lint(file);
    for (const p of result.problems ?? []) {
      const where = (p.location ?? []).map((l) => l.pointer ?? '').join(', ');
      console.log(`${basename(file)}: ${p.severity} ${p.ruleId}: ${p.message}\n  at ${where}`);
    }
    errors += result.totals?.errors ?? 0;
    warnings += result.totals?.warnings ?? 0;
    failed ||= result.status !== 0;
    console.log(`${basename(file)}: ${Object.keys(doc.paths ?? {}).length} paths, ${result.totals?.errors ?? 0} error(s), ${result.totals?.warnings ?? 0} warning(s)`);
  }
  code = errors === 0 && warnings === 0 && !failed ? 0 : 1;
  if (code !== 0) console.log(`openapi lint failed: ${errors} error(s), ${warnings} warning(s)`);
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
} finally {
  if (options.out === undefined) rmSync(dir, { recursive: true, force: true });
}
process.exit(code);
