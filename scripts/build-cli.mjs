#!/usr/bin/env node
// `npm run build:cli` (part of `npm run build`): bundles the command line into
// dist/cli/main.js plus shared chunks (dist/cli/_*.js), replacing the file tsc wrote there.
//
// Why: Node's ESM loader pays per file. Unbundled, `herald emit` resolved and compiled about
// 1,300 files (TypeBox alone is 700) before it could open a socket; bundled, it reads a few
// dozen. Each command stays a dynamic import (its own chunk), so `herald --help` reads
// main.js only and `herald emit --nats` never reads the Kafka client.
//
// The Kafka client's modules are marked side-effect free: their only top-level work is
// compiling option validators (utils.js keeps its ajv keywords, being used), so a command
// that uses the producer no longer compiles the admin client's validators. Packages with
// native code or files read at run time stay external and load from node_modules as usual.
//
// The chunks live in dist/cli itself: code that finds files relative to its own module
// (../../proto, ../../dist/console) sits two levels below the package root there as well.
import { readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { precompiledModule } from './precompiled-validators.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'dist', 'cli');

/** Native addons, optional native helpers, and packages that read their own files or spawn workers. */
const EXTERNAL = [
  'better-sqlite3', 'pg', 'pg-native', 'pino', 'thread-stream', 'prom-client', 'protobufjs',
  'fastify', '@fastify/*', '@node-rs/*',
];

const kafkaSideEffectFree = {
  name: 'kafka-side-effect-free',
  setup(b) {
    b.onResolve({ filter: /.*/ }, async (args) => {
      if (args.pluginData === 'resolving') return undefined;
      const fromKafka = /[\\/]@platformatic[\\/]kafka[\\/]/.test(args.importer);
      if (!fromKafka && args.path !== '@platformatic/kafka') return undefined;
      const r = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: 'resolving' });
      if (r.errors.length > 0 || r.external) return r;
      return /[\\/]@platformatic[\\/]kafka[\\/]dist[\\/]/.test(r.path) ? { ...r, sideEffects: false } : r;
    });
  },
};

// The event validator as Ajv standalone code (src/events/precompiled.ts), from what tsc just
// wrote to dist/: the same schema and options the library compiles at run time.
const precompiled = {
  name: 'precompiled-validators',
  setup(b) {
    b.onLoad({ filter: /[\\/]src[\\/]events[\\/]precompiled\.ts$/ }, async (args) => {
      const { createAjv } = await import(pathToFileURL(join(root, 'dist', 'events', 'validate.js')).href);
      const { EventInput } = await import(pathToFileURL(join(root, 'dist', 'events', 'schema.js')).href);
      return { contents: precompiledModule(createAjv, EventInput), loader: 'js', resolveDir: dirname(args.path) };
    });
  },
};

// Chunks of an earlier build (their names carry content hashes).
for (const f of readdirSync(outdir)) if (/^_.*\.js(\.map)?$/.test(f)) rmSync(join(outdir, f));

await build({
  entryPoints: [join(root, 'src', 'cli', 'main.ts')],
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outdir,
  entryNames: '[name]',
  chunkNames: '_[name]-[hash]',
  allowOverwrite: true,
  external: EXTERNAL,
  // The wasm helpers' default entry reads native.wasm beside itself; this one embeds it.
  alias: { '@platformatic/wasm-utils': '@platformatic/wasm-utils/bundled' },
  // CommonJS packages inside the bundle call require() for Node's built-ins.
  banner: { js: "import { createRequire as __heraldRequire } from 'node:module'; const require = __heraldRequire(import.meta.url);" },
  keepNames: true,
  sourcemap: 'linked',
  legalComments: 'eof',
  plugins: [kafkaSideEffectFree, precompiled],
  logLevel: 'warning',
});
