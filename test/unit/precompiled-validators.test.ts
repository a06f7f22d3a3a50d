/**
 * The command-line bundle validates events with Ajv standalone code generated at build time
 * (src/events/precompiled.ts, scripts/precompiled-validators.mjs). It must answer exactly as
 * the validator compiled at run time: same verdict, same errors, for valid and invalid input.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { EventInput } from '../../src/events/schema.js';
import { createAjv } from '../../src/events/validate.js';
// @ts-expect-error: a plain ES module of the build scripts, without types
import { precompiledModule } from '../../scripts/precompiled-validators.mjs';

const CORPUS: unknown[] = [
  { source: 'orchestrator', type: 'component.started' },
  { source: 'o', type: 't', id: 'a', time: '2024-05-01T12:00:00Z', severity: 'warning', subject: 's', message: 'm', data: { a: [1, { b: null }] } },
  { source: 'o', type: 't', entity: { kind: 'environment', id: 'env-1' }, partitionkey: 'k', dataschema: 'https://example.com/s.json', datacontenttype: 'application/json' },
  {},
  { source: '', type: 'has space' },
  { source: 1, type: ['x'] },
  { source: 'o', type: 't', time: 'yesterday' },
  { source: 'o', type: 't', time: '2024-13-45T99:00:00Z' },
  { source: 'o', type: 't', severity: 'loud' },
  { source: 'o', type: 't', entity: { kind: 'environment' } },
  { source: 'o', type: 't', entity: 'env-1' },
  { source: 'o', type: 't', dataschema: 'not a uri' },
  { source: 'o', type: 't', unknown: true, another: 1 },
  { source: 'o', type: 't', id: 'x'.repeat(5000) },
  { source: 'o', type: 't', data: 'text', datacontenttype: 7 },
  { source: 'o', type: 't', message: { not: 'text' } },
  [],
  'a string',
  null,
];

test('the standalone event validator answers like the compiled one (verdict and errors)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-precompiled-'));
  try {
    const file = join(dir, 'precompiled.mjs');
    // Ajv's standalone code require()s its runtime helpers and formats; the bundle resolves
    // them, a loose module needs a require of its own (resolving from this project).
    const requireLine = `import { createRequire } from 'node:module'; const require = createRequire(${JSON.stringify(import.meta.url)});\n`;
    writeFileSync(file, requireLine + precompiledModule(createAjv, EventInput));
    const { precompiledEventInput: standalone } = await import(pathToFileURL(file).href);
    const compiled = createAjv().compile(EventInput);
    let invalid = 0;
    for (const input of CORPUS) {
      const a = compiled(input);
      const b = standalone(input);
      assert.equal(b, a, `verdict for ${JSON.stringify(input).slice(0, 80)}`);
      assert.deepEqual(standalone.errors ?? null, compiled.errors ?? null, `errors for ${JSON.stringify(input).slice(0, 80)}`);
      if (!a) invalid++;
    }
    // The corpus exercises both answers.
    assert.ok(invalid >= 10 && invalid < CORPUS.length, `${invalid} of ${CORPUS.length} invalid`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
