/**
 * The console's built files (web/console → dist/console/assets by `npm run build:console`).
 * They are read once into memory: the whole console is a few tens of kilobytes, and serving
 * from memory keeps the plugin free of file-system races while the build runs again.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One file of the console, ready to send. */
export interface ConsoleAsset {
  body: Buffer;
  contentType: string;
  /**
   * Cache-Control: hashed file names never change content, so they are immutable; the page
   * itself must be revalidated so a new build's hashes are picked up.
   */
  cacheControl: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
};

/**
 * Where the build puts the console. This module is src/console/assets.ts when run from source
 * (tests, tsx) and dist/console/assets.js when built: both are two levels below the package
 * root, so one relative path serves both.
 */
export const DEFAULT_ASSETS_DIR = fileURLToPath(new URL('../../dist/console/assets/', import.meta.url));

/** A hashed name as esbuild writes it: `console-AB12CD34.js`. */
const HASHED = /-[A-Z0-9]{8}\.[a-z]+$/;

/**
 * Loads the console files of `dir` keyed by file name; `index.html` is the page. Returns an
 * empty map when the console was not built, so the service still starts (GET / then says how
 * to build it).
 */
export function loadConsoleAssets(dir: string = DEFAULT_ASSETS_DIR): Map<string, ConsoleAsset> {
  const out = new Map<string, ConsoleAsset>();
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of names) {
    const type = TYPES[extname(name)];
    if (type === undefined) continue;
    out.set(name, {
      body: readFileSync(join(dir, name)),
      contentType: type,
      cacheControl: HASHED.test(name) ? 'public, max-age=31536000, immutable' : 'no-cache',
    });
  }
  return out;
}
