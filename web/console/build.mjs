#!/usr/bin/env node
// `npm run build:console`: bundles the web console (web/console/src) with esbuild into
// dist/console/assets: index.html plus content-hashed JS and CSS, so the server can let
// browsers cache them forever. No CDN: everything the console needs is in these files.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const outdir = join(root, 'dist', 'console', 'assets');

rmSync(outdir, { recursive: true, force: true });
mkdirSync(outdir, { recursive: true });

const result = await build({
  entryPoints: [join(here, 'src', 'main.ts')],
  bundle: true,
  format: 'esm',
  target: ['es2022', 'chrome110', 'firefox115', 'safari16'],
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  entryNames: 'console-[hash]',
  assetNames: 'console-[hash]',
  outdir,
  metafile: true,
  logLevel: 'warning',
});

const outputs = Object.keys(result.metafile.outputs).map((p) => basename(p));
const js = outputs.find((f) => f.endsWith('.js'));
const css = outputs.find((f) => f.endsWith('.css'));
if (js === undefined || css === undefined) throw new Error(`console build produced ${outputs.join(', ')}; expected one .js and one .css`);
const html = readFileSync(join(here, 'index.html'), 'utf8')
  .replace('%CONSOLE_JS%', `/console/${js}`)
  .replace('%CONSOLE_CSS%', `/console/${css}`);
writeFileSync(join(outdir, 'index.html'), html);
const size = outputs.reduce((n, f) => n + readFileSync(join(outdir, f)).length, 0);
console.log(`console built into dist/console/assets (${outputs.join(', ')}, index.html; ${(size / 1024).toFixed(1)} KiB)`);
