#!/usr/bin/env node
// Runs every command of the ```sh / ```bash / ```console blocks of README.md and docs/*.md, in
// order per file, the way a reader following the page would, and fails naming file:line, the
// command, its exit code and the end of its stderr. The docs promise that they run as written;
// this keeps that promise checked (test/integration/docs-commands.test.ts runs it).
//
//   node scripts/check-docs.mjs [FILE.md ...]     default: README.md and docs/*.md
//
// Each Markdown file gets its own scratch directory that stands in for a fresh checkout: a copy
// of package.json (its npm scripts) and scripts/, and links to the built dist/ and to the other
// folders the docs name, so files the commands write (./data/herald.db, herald.yaml, ...) stay
// out of the checkout. `herald` and `npx herald` run this checkout's dist/cli/main.js (run
// `npm run build` first). Services are the local ones the tests use, taken from the same
// variables; the addresses the docs write are replaced by them when they differ:
//   HERALD_TEST_KAFKA  127.0.0.1:19092               HERALD_TEST_NATS  nats://127.0.0.1:4222
//   HERALD_TEST_AMQP   amqp://guest:guest@127.0.0.1:5672
// `npm run kafka:up` / `connect:up` in the docs start their own broker and worker with
// HERALD_DEV_KAFKA_PORT (a free port) and HERALD_DEV_KAFKA_DIR / HERALD_DEV_CONNECT_DIR (in the
// scratch directory), so a broker already on 19092 is never touched; what they leave running is
// stopped with kafka:down / connect:down at the end of the file.
//
// A command that keeps running (ends in `&`, or `herald serve`, `npm start`, `tally`, `bridge`,
// `connect-health`, `view` without --max/--timeout, `curl -N`) is started in its own process
// group, given time to come up (the next command that names a local port waits for it), and
// killed with its whole group at the end of its block; exiting early with an error fails.
//
// Markers, HTML comments right before a block (several may be stacked):
//   <!-- docs-check: skip — REASON -->        the block is not run; the checker prints the reason
//   <!-- docs-check: slow — REASON -->        run only with HERALD_DOCS_CHECK_SLOW=1
//   <!-- docs-check: checkout -->             run the block in the checkout itself (npm run bench)
//   <!-- docs-check: file NAME -->            the block (any language) is saved as NAME, e.g. a
//                                             receiver the following commands start
//   <!-- docs-check: with COMMAND -->         COMMAND runs in the background from this block on, for
//                                             blocks the page says to run "with herald serve running";
//                                             it is stopped when a later command needs its port, and at
//                                             the end of the file
//   <!-- docs-check: env NAME=VALUE -->       sets a variable the page defines in prose (H=http://...)
//   <!-- docs-check: skip-command TEXT — REASON -->  skips the block's commands that contain TEXT
// Lines starting with `#` are comments or sample output, not commands.
// HERALD_DOCS_CHECK_TIMEOUT: seconds one command may take (default 90).
import { spawn } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, portOpen } from './kafka/lib.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'dist', 'cli', 'main.js');
const TIMEOUT_MS = Number(process.env.HERALD_DOCS_CHECK_TIMEOUT ?? 90) * 1000;
const RUN_SLOW = process.env.HERALD_DOCS_CHECK_SLOW === '1';
const VERBOSE = process.env.HERALD_DOCS_CHECK_VERBOSE === '1';
const t0 = Date.now();
const log = (msg) => { if (VERBOSE) console.log(`[${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}`); };
// The addresses the docs write, and what stands for each here.
const SUBSTITUTIONS = [
  ['127.0.0.1:19092', process.env.HERALD_TEST_KAFKA ?? '127.0.0.1:19092'],
  ['localhost:19092', process.env.HERALD_TEST_KAFKA ?? '127.0.0.1:19092'],
  ['nats://127.0.0.1:4222', process.env.HERALD_TEST_NATS ?? 'nats://127.0.0.1:4222'],
  ['amqp://guest:guest@127.0.0.1:5672', process.env.HERALD_TEST_AMQP ?? 'amqp://guest:guest@127.0.0.1:5672'],
].filter(([from, to]) => from !== to);
// Ports of the services above: a command naming them does not wait for a background command.
const SERVICE_PORTS = new Set([19092, 4222, 5672, 5432]);
for (const [, to] of SUBSTITUTIONS) {
  const m = /:(\d+)(?:[/,]|$)/.exec(to);
  if (m) SERVICE_PORTS.add(Number(m[1]));
}

// Files of other folders of the checkout that doc commands read.
const LINKED = ['dist', 'examples', 'proto', 'deploy', 'bench', 'docs'];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- Markdown → blocks → commands

const MARKER = /^<!--\s*docs-check:\s*(.*?)\s*-->\s*$/;

/** The fenced blocks of a Markdown file with their language, first line number and markers. */
export function parseBlocks(text) {
  const lines = text.split('\n');
  const blocks = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(```+)\s*([\w-]*)/.exec(lines[i]);
    if (!open) continue;
    const [, indent, fence, lang] = open;
    const body = [];
    let j = i + 1;
    for (; j < lines.length && !lines[j].startsWith(indent + fence); j++) body.push(lines[j].slice(indent.length));
    const markers = [];
    for (let k = i - 1; k >= 0; k--) {
      const line = lines[k].trim();
      if (line === '') continue;
      const m = MARKER.exec(line);
      if (!m) break;
      markers.unshift(parseMarker(m[1]));
    }
    blocks.push({ lang: lang.toLowerCase(), line: i + 1, body, markers });
    i = j;
  }
  return blocks;
}

function parseMarker(text) {
  const [head, ...rest] = text.split(/\s+[—–-]{1,2}\s+/);
  const reason = rest.join(' — ').trim();
  const [kind, ...args] = head.trim().split(/\s+/);
  return { kind, arg: args.join(' '), reason };
}

/**
 * Splits a block into shell commands with their line offsets: a command goes on over lines
 * ending in `\`, `|`, `&&` or `||`, open quotes and here-documents. Lines that start with `#`
 * (comments, sample output) between commands are dropped.
 */
export function splitCommands(body) {
  const cmds = [];
  let i = 0;
  while (i < body.length) {
    if (body[i].trim() === '' || body[i].trim().startsWith('#')) { i++; continue; }
    const start = i;
    let text = '';
    let quote = null;
    const heredocs = [];
    for (;;) {
      const line = body[i];
      text += (text ? '\n' : '') + line;
      i++;
      const scan = scanLine(line, quote);
      quote = scan.quote;
      heredocs.push(...scan.heredocs);
      if (quote) { if (i < body.length) continue; break; }
      const code = scan.code.trimEnd();
      while (heredocs.length > 0 && i < body.length) {
        const { word, strip } = heredocs.shift();
        while (i < body.length) {
          const l = body[i++];
          text += '\n' + l;
          if ((strip ? l.replace(/^\t+/, '') : l) === word) break;
        }
      }
      if (/(\\|\||&&)$/.test(code) && i < body.length) {
        // a comment line inside a continued pipe is still part of it for the shell
        continue;
      }
      break;
    }
    cmds.push({ offset: start, text });
  }
  return cmds;
}

/** Quote state, code without a trailing comment, and here-document words of one line. */
function scanLine(line, quote) {
  let code = '';
  const heredocs = [];
  for (let c = 0; c < line.length; c++) {
    const ch = line[c];
    if (quote === "'") { if (ch === "'") quote = null; code += ch; continue; }
    if (quote === '"') {
      if (ch === '\\') { code += ch + (line[c + 1] ?? ''); c++; continue; }
      if (ch === '"') quote = null;
      code += ch;
      continue;
    }
    if (ch === '\\') { code += ch + (line[c + 1] ?? ''); c++; continue; }
    if (ch === "'" || ch === '"') { quote = ch; code += ch; continue; }
    if (ch === '#' && (c === 0 || /\s/.test(line[c - 1]))) break;
    if (ch === '<' && line[c + 1] === '<' && line[c + 2] !== '<') {
      const m = /^<<(-?)\s*(['"]?)([\w.-]+)\2/.exec(line.slice(c));
      if (m) { heredocs.push({ word: m[3], strip: m[1] === '-' }); code += m[0]; c += m[0].length - 1; continue; }
    }
    code += ch;
  }
  return { quote, code, heredocs };
}

/** Whether a command keeps running until it is stopped, and the local port it serves, if known. */
export function longRunning(cmd) {
  const text = cmd.replace(/\s+#[^\n'"]*$/, '').trim();
  const background = /(^|[^&])&$/.test(text);
  const port = /--port[ =](\d+)/.exec(text)?.[1];
  const herald = /(?:\bherald|dist\/cli\/main\.js)\s+(\w[\w-]*)/.exec(text)?.[1];
  let server = false;
  if (herald === 'serve' || /\bnpm (start|run start)\b/.test(text)) server = true;
  else if (['tally', 'bridge', 'connect-health'].includes(herald)) server = true;
  else if (herald === 'view' && !/--max\b|--timeout\b/.test(text)) server = true;
  else if (/\bcurl\b[^|;]*\s-\w*N/.test(text)) server = true;
  const defaultPort = herald === 'serve' || /\bnpm (start|run start)\b/.test(text) ? 8080
    : herald === 'connect-health' ? 8081 : herald === 'tally' ? 8080 : undefined;
  return { background: background || server, port: port ? Number(port) : server ? defaultPort : undefined };
}

// ---------------------------------------------------------------- running

/** A scratch directory standing in for a fresh checkout (see the top of this file). */
function makeScratch() {
  const dir = mkdtempSync(join(tmpdir(), 'herald-docs-'));
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  // Without `bin`, `npx herald` here runs node_modules/.bin/herald instead of installing this
  // directory as a package into npx's cache.
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'herald-docs-check', private: true, type: 'module', scripts: pkg.scripts }, null, 2));
  // A copy, not a link: scripts/kafka keeps its state under the directory it runs from.
  cpSync(join(ROOT, 'scripts'), join(dir, 'scripts'), { recursive: true, preserveTimestamps: true });
  for (const name of LINKED) if (existsSync(join(ROOT, name))) symlinkSync(join(ROOT, name), join(dir, name));
  const bin = join(dir, 'node_modules', '.bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'herald'), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`);
  chmodSync(join(bin, 'herald'), 0o755);
  return { dir, bin };
}

function substitute(text) {
  for (const [from, to] of SUBSTITUTIONS) text = text.split(from).join(to);
  return text;
}

function tail(buf, n = 8) {
  return buf.toString().trimEnd().split('\n').slice(-n).map((l) => `    ${l}`).join('\n');
}

class FileRun {
  constructor(file, env) {
    this.file = file;
    this.scratch = makeScratch();
    this.state = join(this.scratch.dir, '.docs-check.env');
    writeFileSync(this.state, '');
    this.env = env(this.scratch);
    this.bg = [];
    this.persistent = [];
    this.ran = 0;
    this.background = 0;
    this.failures = [];
  }

  wrap(cmd, { saveEnv }) {
    // set -a: plain assignments (H=http://...) carry over to the next command, as in a shell
    return `set -a\n. ${JSON.stringify(this.state)}\n${cmd}\n__rc=$?\n${saveEnv ? `export -p > ${JSON.stringify(this.state)}\n` : ''}exit $__rc\n`;
  }

  spawn(cmd, cwd, { saveEnv }) {
    const child = spawn('bash', ['-c', this.wrap(cmd, { saveEnv })], { cwd, env: this.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = { stdout: Buffer.alloc(0), stderr: Buffer.alloc(0), code: null, signal: null };
    const keep = (k) => (d) => { out[k] = Buffer.concat([out[k], d]).subarray(-16384); };
    child.stdout.on('data', keep('stdout'));
    child.stderr.on('data', keep('stderr'));
    out.exited = new Promise((res) => child.on('exit', (code, signal) => { out.code = code; out.signal = signal; res(); }));
    out.child = child;
    return out;
  }

  async waitForPorts(cmd) {
    const ports = [...cmd.matchAll(/(?:localhost|127\.0\.0\.1):(\d+)/g)].map((m) => Number(m[1]))
      .filter((p) => !SERVICE_PORTS.has(p) && [...this.bg, ...this.persistent].some((b) => b.port === p || b.port === undefined));
    for (const port of new Set(ports)) {
      const until = Date.now() + 30_000;
      while (Date.now() < until && !(await portOpen(port))) {
        if ([...this.bg, ...this.persistent].some((b) => b.port === port && b.out.code !== null)) break;
        await sleep(200);
      }
    }
  }

  fail(line, cmd, detail, out) {
    this.failures.push(`${this.file}:${line}: ${cmd.split('\n').join('\n    ')}\n  ${detail}${out && out.stderr.length ? `\n  stderr:\n${tail(out.stderr)}` : ''}${out && !out.stderr.length && out.stdout.length ? `\n  stdout:\n${tail(out.stdout)}` : ''}`);
  }

  async startBackground(cmd, line, cwd, port, { persistent = false } = {}) {
    if (persistent && this.persistent.some((b) => b.cmd === cmd && b.out.code === null)) return;
    // a server a `with` marker started gives way to a command of the page on the same port
    await this.stopPersistent((b) => port !== undefined && b.port === port);
    if (port !== undefined && await portOpen(port)) {
      this.fail(line, cmd, `port ${port} is already taken by another process before the command started`);
      return;
    }
    log(`start ${this.file}:${line}: ${cmd.split('\n')[0]}`);
    // without its `&` (kept before a trailing comment), so that an early exit shows
    const out = this.spawn(cmd.replace(/(^|[^&])&(\s*(?:#[^\n]*)?)$/, '$1$2'), cwd, { saveEnv: false });
    (persistent ? this.persistent : this.bg).push({ cmd, line, out, port });
    this.ran++;
    this.background++;
    // time to come up: its port, else a moment (consumers subscribe before the next emit)
    const until = Date.now() + (port !== undefined ? 30_000 : 2_000);
    while (Date.now() < until && out.code === null) {
      if (port !== undefined && await portOpen(port)) break;
      await sleep(200);
    }
    if (port === undefined && out.code === null) await sleep(500);
  }

  async run(cmd, line, cwd) {
    await this.waitForPorts(cmd);
    log(`run ${this.file}:${line}: ${cmd.split('\n')[0]}`);
    const out = this.spawn(cmd, cwd, { saveEnv: true });
    this.current = out;
    this.ran++;
    // starting a JVM broker or Connect worker takes longer than any other command
    const limit = /\b(kafka|connect):up\b/.test(cmd) ? Math.max(TIMEOUT_MS, 240_000) : TIMEOUT_MS;
    const timer = setTimeout(() => { out.timedOut = true; killGroup(out.child.pid, 'SIGKILL'); }, limit);
    await out.exited;
    this.current = undefined;
    clearTimeout(timer);
    if (out.timedOut) this.fail(line, cmd, `did not finish within ${limit / 1000}s`, out);
    else if (out.code !== 0) this.fail(line, cmd, `exit ${out.code ?? out.signal}`, out);
  }

  async endBlock() {
    await this.stop(this.bg.splice(0));
  }

  async stopPersistent(which = () => true) {
    const stop = this.persistent.filter(which);
    this.persistent = this.persistent.filter((b) => !stop.includes(b));
    await this.stop(stop);
  }

  async stop(list) {
    for (const b of list) {
      log(`stop ${this.file}:${b.line} (${b.out.code === null ? 'running' : `exited ${b.out.code}`})`);
      if (b.out.code !== null && b.out.code !== 0) this.fail(b.line, b.cmd, `exited early with ${b.out.code} (it should keep running)`, b.out);
      if (!groupAlive(b.out.child.pid)) continue;
      killGroup(b.out.child.pid, 'SIGTERM');
      // the group leader (bash, npm) exits at once; wait for the whole group, the server under it
      // included, and kill what is left (a server still starting up can miss the SIGTERM)
      const until = Date.now() + 10_000;
      while (Date.now() < until && groupAlive(b.out.child.pid)) await sleep(200);
      if (groupAlive(b.out.child.pid)) { killGroup(b.out.child.pid, 'SIGKILL'); await sleep(500); }
      await b.out.exited;
      // npm runs a script in a process group of its own and forwards the SIGTERM to it: wait
      // until that server has closed its port too
      while (b.port !== undefined && Date.now() < until + 10_000 && await portOpen(b.port)) await sleep(200);
    }
  }

  /** Stops what `npm run kafka:up` / `connect:up` of the page left running. */
  async stopDevServices() {
    // by their data directories: an `up` cut short by its timeout writes no state file
    for (const [dir, script] of [['connect', 'connect:down'], ['kafka', 'kafka:down']]) {
      if (!existsSync(join(this.scratch.dir, '.herald', dir))) continue;
      const out = this.spawn(`npm run --silent ${script}`, this.scratch.dir, { saveEnv: false });
      await out.exited;
    }
  }
}

function groupAlive(pid) {
  try { process.kill(-pid, 0); return true; } catch { return false; }
}

function killGroup(pid, signal) {
  try { process.kill(-pid, signal); } catch { /* already gone */ }
}

async function checkFile(file, devPorts) {
  const text = readFileSync(join(ROOT, file), 'utf8');
  // a reader's fresh shell: none of Herald's own settings from this environment leak in
  const base = Object.fromEntries(Object.entries(process.env)
    .filter(([k]) => !k.startsWith('HERALD_') || /^HERALD_(TEST_|DOCS_CHECK_|KAFKA_LIBS$)/.test(k)));
  const run = new FileRun(file, (scratch) => ({
    ...base,
    PATH: `${scratch.bin}:${process.env.PATH}`,
    // npm run kafka:up / connect:up of the docs: their own broker and worker, never the one on 19092
    HERALD_DEV_KAFKA_PORT: String(devPorts.kafka),
    HERALD_DEV_KAFKA_DIR: join(scratch.dir, '.herald', 'kafka'),
    HERALD_DEV_CONNECT_DIR: join(scratch.dir, '.herald', 'connect'),
    HERALD_KAFKA_LIBS: process.env.HERALD_KAFKA_LIBS ?? join(ROOT, '.herald', 'libs'),
  }));
  const skips = [];
  active = run;
  try {
    for (const block of parseBlocks(text)) {
      for (const e of block.markers.filter((m) => m.kind === 'env')) appendFileSync(run.state, `export ${e.arg}\n`);
      const has = (kind) => block.markers.find((m) => m.kind === kind);
      const fileMarker = has('file');
      if (fileMarker) writeFileSync(join(run.scratch.dir, fileMarker.arg), substitute(block.body.join('\n')) + '\n');
      if (!['sh', 'bash', 'console', 'shell'].includes(block.lang)) continue;
      const skip = has('skip') ?? (!RUN_SLOW && has('slow'));
      if (skip) {
        skips.push(`${file}:${block.line}: ${skip.kind === 'slow' ? 'slow block (HERALD_DOCS_CHECK_SLOW=1 runs it)' : 'block'} — ${skip.reason || '(no reason given)'}`);
        continue;
      }
      const cwd = has('checkout') ? ROOT : run.scratch.dir;
      for (const w of block.markers.filter((m) => m.kind === 'with')) {
        const cmd = substitute(w.arg);
        await run.startBackground(cmd, block.line, cwd, longRunning(cmd).port, { persistent: true });
      }
      const skipCommands = block.markers.filter((m) => m.kind === 'skip-command');
      for (const { offset, text: raw } of splitCommands(block.body)) {
        const cmd = substitute(block.lang === 'console' ? raw.replace(/^\$ /, '') : raw);
        const line = block.line + 1 + offset;
        const sc = skipCommands.find((m) => raw.includes(m.arg));
        if (sc) { skips.push(`${file}:${line}: command skipped — ${sc.reason || '(no reason given)'}`); continue; }
        const lr = longRunning(cmd);
        if (lr.background) await run.startBackground(cmd, line, cwd, lr.port);
        else await run.run(cmd, line, cwd);
      }
      await run.endBlock();
    }
  } finally {
    await run.endBlock();
    await run.stopPersistent();
    await run.stopDevServices();
    rmSync(run.scratch.dir, { recursive: true, force: true });
    active = undefined;
  }
  return { ran: run.ran, background: run.background, failures: run.failures, skips };
}

// Interrupted (the test's time limit, Ctrl-C): stop what the current page started first.
let active;
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    const run = active;
    if (!run) process.exit(130);
    console.error(`docs-check: interrupted in ${run.file}; stopping what it started`);
    if (run.current) killGroup(run.current.child.pid, 'SIGKILL');
    for (const f of run.failures) console.error(`FAIL ${f}`);
    run.endBlock().then(() => run.stopPersistent()).then(() => run.stopDevServices())
      .finally(() => { rmSync(run.scratch.dir, { recursive: true, force: true }); process.exit(130); });
  });
}

async function main() {
  if (!existsSync(CLI)) {
    console.error(`${relative(process.cwd(), CLI)} is missing: run npm run build first`);
    process.exit(2);
  }
  const args = process.argv.slice(2);
  const files = args.length > 0 ? args.map((f) => relative(ROOT, resolve(f)))
    : ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => join('docs', f))];
  const devPorts = { kafka: await freePort() };
  let ran = 0; let background = 0; const failures = []; const skips = [];
  for (const file of files) {
    const t = Date.now();
    const r = await checkFile(file, devPorts);
    ran += r.ran; background += r.background; failures.push(...r.failures); skips.push(...r.skips);
    console.log(`${file}: ${r.ran} commands (${r.background} in the background), ${r.skips.length} skipped, ${r.failures.length} failed, ${((Date.now() - t) / 1000).toFixed(1)}s`);
  }
  for (const s of skips) console.log(`skip ${s}`);
  for (const f of failures) console.error(`FAIL ${f}`);
  console.log(`docs-check: ${ran} commands ran (${background} in the background), ${skips.length} skipped, ${failures.length} failed in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
  process.exit(failures.length > 0 ? 1 : 0);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
