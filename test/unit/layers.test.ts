/**
 * The import rules of `npm run check:deps` (.dependency-cruiser.cjs) catch what they are for:
 * run on a small tree of their own, an upward import, a cycle and a module outside every layer
 * are each reported. (npm test runs the same rules over src/, which must pass them.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ROOT } from '../helpers/env.js';

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'herald-layers-'));
  copyFileSync(join(ROOT, '.dependency-cruiser.cjs'), join(dir, '.dependency-cruiser.cjs'));
  writeFileSync(join(dir, 'tsconfig.build.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true }, include: ['src'] }));
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

function cruise(dir: string): { code: number | null; out: string } {
  const r = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs'), 'src', '--config', '.dependency-cruiser.cjs', '--no-progress'], { cwd: dir, encoding: 'utf8' });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

test('an upward import, an import cycle and a module outside the layers are each an error', (t) => {
  const dir = tree({
    'src/errors.ts': 'export const e = 1;\n',
    'src/events/a.ts': "import { b } from './b.js';\nexport const a = b;\n",
    'src/events/b.ts': "import { a } from './a.js';\nexport const b = () => a;\n",
    'src/store/s.ts': "import { o } from '../outbox/o.js';\nexport const s = o;\n",
    'src/outbox/o.ts': "import { e } from '../errors.js';\nexport const o = e;\n",
    'src/misc/m.ts': 'export const m = 1;\n',
    'src/misc/n.ts': "import { e } from '../errors.js';\nexport const n = e;\n",
  });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const r = cruise(dir);
  assert.equal(r.code, 4, r.out);
  assert.match(r.out, /no-circular: src\/events\/(a|b)\.ts/);
  assert.match(r.out, /layer-5-not-upwards: src\/store\/s\.ts → src\/outbox\/o\.ts/);
  assert.match(r.out, /no-orphans: src\/misc\/m\.ts/);
  assert.match(r.out, /every-module-in-a-layer: src\/misc\/n\.ts → src\/errors\.ts/);
});

test('imports downwards and within a layer are fine', (t) => {
  const dir = tree({
    'src/errors.ts': 'export const e = 1;\n',
    'src/events/a.ts': "import { e } from '../errors.js';\nexport const a = e;\n",
    'src/outbox/o.ts': "import { a } from '../events/a.js';\nimport { s } from '../store/s.js';\nexport const o = a + s;\n",
    'src/store/s.ts': "import { a } from '../events/a.js';\nexport const s = a;\n",
    'src/delivery/d.ts': "import { e } from '../errors.js';\nexport const d = e;\n",
  });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const r = cruise(dir);
  assert.equal(r.code, 0, r.out);
});
