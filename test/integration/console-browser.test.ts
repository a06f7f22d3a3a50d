/**
 * The web console end to end: the real service (SQLite store, outbox with a Kafka sink that
 * cannot connect) and headless Chromium. Events posted through the API appear without a
 * reload, filters narrow the list, Enter opens an event, a state change moves an entity
 * between columns, the failing sink shows as failing with its error, older events show their
 * date, axe-core finds no accessibility violation, nothing is cut off at 390 px, and the page
 * survives a server restart without losing events.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { loadConfig } from '../../src/config/index.js';
import type { HeraldConfig } from '../../src/config/schema.js';
import { createEvent } from '../../src/events/index.js';
import { openStore } from '../../src/store/index.js';
import { browserSkip, CHROMIUM, CHROMIUM_ARGS, startConsoleServer, type ConsoleServer } from './console-harness.js';

const OUTPUT = join('test', 'output');

// Browser globals used inside page functions (this project compiles without the DOM library;
// string expressions would not do: the console's CSP forbids eval, as it should).
interface BrowserElement { getAttribute(name: string): string | null }
interface BrowserBox extends BrowserElement {
  getBoundingClientRect(): { left: number; right: number; width: number; height: number };
  scrollWidth: number;
  clientWidth: number;
  tagName: string;
  className: string;
  textContent: string | null;
}
declare const document: {
  querySelectorAll(selector: string): ArrayLike<BrowserBox>;
  querySelector(selector: string): (BrowserElement & { textContent: string | null }) | null;
  activeElement: BrowserElement | null;
  documentElement: { scrollWidth: number; clientWidth: number };
};
declare function getComputedStyle(el: BrowserElement | null): { color: string };
declare const sessionStorage: { getItem(key: string): string | null };
interface AxeViolation { id: string; impact: string | null; help: string; nodes: Array<{ target: unknown[]; failureSummary?: string }> }
declare const axe: {
  getRules(tags: string[]): Array<{ ruleId: string }>;
  run(context: unknown, options: { rules: Record<string, { enabled: boolean }>; resultTypes: string[] }): Promise<{ violations: AxeViolation[] }>;
};

// axe-core's browser build, injected into the page under test (see axeViolations).
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
let browser: Browser | undefined;
const cleanups: Array<() => Promise<unknown>> = [];

before(async () => {
  if (browserSkip) return;
  mkdirSync(OUTPUT, { recursive: true });
  const { chromium } = await import('playwright-core');
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
});
after(async () => {
  // Servers and temp dirs first (newest first), the browser last, even after failures.
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  await browser?.close();
});

function tempConfig(overrides: Record<string, unknown> = {}): { config: HeraldConfig; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'herald-console-'));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  const config = loadConfig({ env: {}, overrides: { server: { host: '127.0.0.1', port: 0 }, store: { url: `sqlite:${join(dir, 'herald.db')}` }, ...overrides } });
  return { config, dir };
}

/** A page on the console; locale and time zone are fixed so that dates read predictably. */
async function open(srv: ConsoleServer, width = 1280, height = 900, locale = 'en-GB'): Promise<Page> {
  const context = await browser!.newContext({ viewport: { width, height }, locale, timezoneId: 'UTC' });
  cleanups.push(() => context.close());
  const page = await context.newPage();
  // The console must work offline: any request to another origin fails the test.
  const foreign: string[] = [];
  page.on('request', (r) => { if (!r.url().startsWith(srv.base)) foreign.push(r.url()); });
  cleanups.push(async () => assert.deepEqual(foreign, [], 'requests to other origins'));
  await page.goto(`${srv.base}/`);
  return page;
}

const json = (base: string, method: string, path: string, body: unknown, token?: string) => fetch(`${base}${path}`, {
  method, headers: { 'content-type': 'application/json', ...(token !== undefined && { authorization: `Bearer ${token}` }) }, body: JSON.stringify(body),
});

/**
 * Runs axe-core in the page: the rules it runs by default, every experimental one and
 * target-size (WCAG 2.2 AA, off by default), and label-content-name-mismatch named explicitly
 * (older axe versions ship it as experimental): a control's accessible name must contain its
 * visible text, or speech users cannot call it by what they see.
 */
async function axeViolations(page: Page): Promise<AxeViolation[]> {
  // A CDP evaluation, not a <script> tag: the console's CSP rightly refuses inline scripts.
  await page.evaluate(AXE_SOURCE);
  return page.evaluate(async () => {
    const extra = [...axe.getRules(['experimental']).map((r) => r.ruleId), 'target-size', 'label-content-name-mismatch'];
    const result = await axe.run(document, { rules: Object.fromEntries(extra.map((id) => [id, { enabled: true }])), resultTypes: ['violations'] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target, ...(n.failureSummary !== undefined && { failureSummary: n.failureSummary }) })) }));
  });
}

async function assertAccessible(page: Page, what: string): Promise<void> {
  const violations = await axeViolations(page);
  const report = violations.map((v) => [
    `${v.id} (${v.impact}): ${v.help}`,
    ...v.nodes.slice(0, 5).map((n) => `  ${JSON.stringify(n.target)}: ${n.failureSummary?.replace(/\s+/g, ' ') ?? ''}`),
    ...(v.nodes.length > 5 ? [`  and ${v.nodes.length - 5} more`] : []),
  ].join('\n')).join('\n');
  assert.equal(violations.length, 0, `axe finds ${violations.length} violation(s) on ${what}:\n${report}`);
}

const row = (page: Page, id: string) => page.locator(`.events button[data-id="${id}"]`);
/** Waits until the timeline shows exactly `n` events . */
const rowsAre = (page: Page, n: number) => page.waitForFunction((count) => document.querySelectorAll('.events button[data-id]').length === count, n);
const visibleIds = (page: Page) => page.$$eval('.events button[data-id]', (els) => els.map((e) => e.getAttribute('data-id')));

test('live timeline, filters, details, board and a failing sink', { skip: browserSkip }, async () => {
  // "main" points at a closed port; "live" (when a test broker is around) at a real broker.
  const kafka = process.env.HERALD_TEST_KAFKA;
  const { config } = tempConfig({
    streaming: true,
    sinks: [
      { name: 'main', type: 'kafka', brokers: ['127.0.0.1:1'], topic: 'herald.console.test', profile: 'cloudevents' },
      ...(kafka !== undefined ? [{ name: 'live', type: 'kafka', brokers: kafka.split(','), topic: `herald.console.${Date.now()}`, profile: 'cloudevents' }] : []),
    ],
  });
  const srv = await startConsoleServer(config);
  cleanups.push(() => srv.close());
  const page = await open(srv);
  await page.locator('.link.live').waitFor();

  // 1. Events posted through the API appear without a reload, newest first.
  assert.equal((await json(srv.base, 'POST', '/v2/events', [
    { id: 'ev-info', source: 'ci', type: 'build.started', severity: 'info', entity: { kind: 'env', id: 'e1' }, message: 'build started' },
    { id: 'ev-error', source: 'ci', type: 'build.failed', severity: 'error', entity: { kind: 'env', id: 'e1' }, message: 'compiler exploded', data: { password: 'hunter2', step: 3 } },
  ])).status, 202);
  await row(page, 'ev-error').waitFor();
  await row(page, 'ev-info').waitFor();
  assert.deepEqual((await visibleIds(page)).slice(0, 2), ['ev-error', 'ev-info']);
  assert.equal((await row(page, 'ev-error').locator('.sev').textContent())?.trim(), 'error');
  const sevColour = (id: string) => page.evaluate((sel) => getComputedStyle(document.querySelector(sel)).color, `.events button[data-id="${id}"] .sev`);
  const colour = await sevColour('ev-error');
  const infoColour = await sevColour('ev-info');
  assert.match(colour, /^rgb/);
  assert.notEqual(colour, infoColour, 'severities differ by colour as well as by word');

  // 2. A filter narrows the list (severity), and the live stream honours it too.
  await page.selectOption('select[name="severity"]', 'error');
  await rowsAre(page, 1);
  assert.deepEqual(await visibleIds(page), ['ev-error']);
  await json(srv.base, 'POST', '/v2/events', [
    { id: 'ev-info-2', source: 'ci', type: 'build.started', severity: 'info', message: 'second build' },
    { id: 'ev-error-2', source: 'ci', type: 'deploy.failed', severity: 'error', message: 'rollout stuck' },
  ]);
  await row(page, 'ev-error-2').waitFor();
  assert.deepEqual(await visibleIds(page), ['ev-error-2', 'ev-error']);
  // Text filter on top: only the message containing "stuck".
  await page.fill('input[name="text"]', 'stuck');
  await rowsAre(page, 1);
  assert.deepEqual(await visibleIds(page), ['ev-error-2']);
  await page.fill('input[name="text"]', '');
  await page.selectOption('select[name="severity"]', '');
  await rowsAre(page, 4);

  // 3. Keyboard: focus an event, Enter opens its stored JSON (redacted), Escape closes it.
  await row(page, 'ev-error').focus();
  await page.keyboard.press('Enter');
  await page.locator('dialog.detail[open]').waitFor();
  const detail = JSON.parse(await page.locator('dialog.detail pre').textContent() ?? '{}') as { id: string; data: { password: string; step: number } };
  assert.equal(detail.id, 'ev-error');
  assert.equal(detail.data.step, 3);
  assert.notEqual(detail.data.password, 'hunter2', 'secrets are shown as stored: redacted');
  await page.keyboard.press('Escape');
  await page.locator('dialog.detail[open]').waitFor({ state: 'detached' });
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-id') ?? null), 'ev-error', 'focus returns to the event');

  // 4. A state change moves an entity between columns.
  assert.equal((await json(srv.base, 'PUT', '/v2/entities/environment/env-7/state', { state: 'CONFIGURED' })).status, 200);
  const card = (state: string) => page.locator(`.kind[data-kind="environment"] [data-state="${state}"] .card[data-id="env-7"]`);
  await card('CONFIGURED').waitFor();
  assert.equal((await json(srv.base, 'PUT', '/v2/entities/environment/env-7/state', { state: 'RUNNING', attributes: { runNumber: 5571 } })).status, 200);
  await card('RUNNING').waitFor();
  assert.equal(await card('CONFIGURED').count(), 0, 'the entity left the CONFIGURED column');
  assert.match(await card('RUNNING').textContent() ?? '', /run 5571/);

  // 5. The sink that cannot reach its broker shows as failing, with its error and its lag.
  const sink = page.locator('.sink[data-sink="main"]');
  await page.locator('.sink[data-sink="main"].failing .last-error').waitFor({ timeout: 60_000 });
  assert.equal((await sink.locator('.badge').textContent())?.trim(), 'failing');
  assert.ok(((await sink.locator('.last-error .text').textContent()) ?? '').length > 0);
  // The panel samples every few seconds: the first failing sample may predate the posts above.
  // (A function, not a string: the console's CSP forbids eval, and a string would fail at once.)
  await page.waitForFunction(() => Number(document.querySelector('.sink[data-sink="main"] .stat dd')?.textContent ?? '0') > 0, undefined, { timeout: 30_000 });
  const pending = Number(await sink.locator('.stat', { hasText: 'pending' }).first().locator('dd').textContent());
  assert.ok(pending > 0, `outbox lag shown (pending ${pending}; the panel says: ${await sink.textContent()})`);
  assert.ok(await sink.locator('svg.spark').count() >= 2);
  if (kafka !== undefined) {
    // The healthy sink next to it: connected, delivering, no error.
    await page.locator('.sink[data-sink="live"].connected').waitFor({ timeout: 60_000 });
    await page.waitForFunction(() => Number(document.querySelector('.sink[data-sink="live"] .stat:nth-child(2) dd')?.textContent ?? '0') > 0, undefined, { timeout: 60_000 });
    assert.equal(await page.locator('.sink[data-sink="live"] .last-error').count(), 0);
  }

  // A fuller board for the screenshot the README shows.
  await json(srv.base, 'PUT', '/v2/entities/environment/env-8/state', { state: 'RUNNING', attributes: { runNumber: 5572 } });
  await json(srv.base, 'PUT', '/v2/entities/environment/env-9/state', { state: 'CONFIGURED' });
  await json(srv.base, 'PUT', '/v2/entities/environment/env-3/state', { state: 'ERROR' });
  await json(srv.base, 'PUT', '/v2/entities/host/node-a/state', { state: 'UP' });
  await page.locator('.kind[data-kind="host"] .card[data-id="node-a"]').waitFor();
  await page.locator('.kind[data-kind="environment"] [data-state="ERROR"] .card[data-id="env-3"]').waitFor();
  await json(srv.base, 'POST', '/v2/events', [
    { id: 'shot-1', source: 'ecs', type: 'run.quality', severity: 'warning', entity: { kind: 'environment', id: 'env-7' }, message: 'detector TPC at 80% occupancy' },
    { id: 'shot-2', source: 'ecs', type: 'run.failed', severity: 'critical', entity: { kind: 'environment', id: 'env-3' }, message: 'readout lost; environment in ERROR' },
    { id: 'shot-3', source: 'ci', type: 'deploy.finished', severity: 'info', entity: { kind: 'host', id: 'node-a' }, message: 'agent 2.4.1 deployed' },
  ]);
  await row(page, 'shot-3').waitFor();
  await page.screenshot({ path: join(OUTPUT, 'console-1280.png'), fullPage: true });
  // docs/console.png (the README's picture) is refreshed by hand from this file: tests never modify tracked files.

  // 6. Times: today's events show the time of day only; older ones also show the date, in
  // the page's locale (en-GB here), with the full timestamp in title and datetime.
  const old = new Date(Date.now() - 3 * 86_400_000);
  old.setUTCMilliseconds(0);
  assert.equal((await json(srv.base, 'POST', '/v2/events', { id: 'old-1', source: 'ecs', type: 'run.finished', severity: 'info', entity: { kind: 'environment', id: 'env-2' }, message: 'run 5560 ended', time: old.toISOString() })).status, 202);
  await row(page, 'old-1').waitFor();
  const oldTime = row(page, 'old-1').locator('time');
  const sameYear = old.getUTCFullYear() === new Date().getUTCFullYear();
  const expectDate = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', ...(!sameYear && { year: 'numeric' }), timeZone: 'UTC' }).format(old);
  const expectTime = old.toISOString().slice(11, 19);
  assert.equal(await oldTime.textContent(), `${expectDate} ${expectTime}`);
  assert.equal(await oldTime.getAttribute('datetime'), old.toISOString());
  const title = await oldTime.getAttribute('title') ?? '';
  assert.ok(title.includes(String(old.getUTCFullYear())) && title.includes(expectTime) && title.includes('UTC'), `full timestamp in the title: ${title}`);
  const todayTime = row(page, 'shot-3').locator('time');
  assert.match(await todayTime.textContent() ?? '', /^\d{2}:\d{2}:\d{2}$/, 'today: the time only');
  assert.equal(await todayTime.locator('.date').count(), 0);

  // 7. Accessibility, with every panel filled and then with the event dialog open.
  await assertAccessible(page, 'the console at 1280 px');
  await row(page, 'shot-2').click();
  await page.locator('dialog.detail[open]').waitFor();
  await assertAccessible(page, 'the event dialog');
  await page.keyboard.press('Escape');

  // 8. Phone width (390 x 844, an iPhone 12), German locale: one column, and no cell of the
  // timeline, the board or the sinks sticks out of the screen or has its text cut off.
  const phone = await open(srv, 390, 844, 'de-DE');
  await row(phone, 'ev-error').waitFor();
  await row(phone, 'old-1').waitFor();
  await phone.locator('.kind[data-kind="environment"] [data-state="ERROR"] .card').waitFor();
  await phone.locator('.sink[data-sink="main"] .last-error').waitFor({ timeout: 30_000 });
  const widths = await phone.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
  assert.ok(widths.scroll <= widths.client, `page is ${widths.scroll}px wide in a ${widths.client}px viewport`);
  const [timelineBox, boardBox] = [await phone.locator('.timeline').boundingBox(), await phone.locator('.board').boundingBox()];
  assert.ok(timelineBox && boardBox && boardBox.y >= timelineBox.y + timelineBox.height - 1, 'panels stack vertically');
  const cells = ['.filters label', '.events .event > *', '.board .column', '.board .card > *', '.sink header > *', '.sink .stat', '.sink figure', '.sink .last-error'];
  const clipped = await phone.evaluate((selector) => {
    const width = document.documentElement.clientWidth;
    const found: string[] = [];
    for (const el of Array.from(document.querySelectorAll(selector))) {
      const box = el.getBoundingClientRect();
      if (box.width === 0 && box.height === 0) continue;
      const what = `${el.tagName.toLowerCase()}.${el.className} "${(el.textContent ?? '').slice(0, 30)}"`;
      if (box.left < 0 || box.right > width + 0.5) found.push(`${what}: spans ${Math.round(box.left)}..${Math.round(box.right)} px of ${width}`);
      if (el.scrollWidth > el.clientWidth + 1) found.push(`${what}: ${el.scrollWidth}px of content in ${el.clientWidth}px`);
    }
    return found;
  }, cells.join(', '));
  assert.deepEqual(clipped, [], 'cells outside the screen or cut off at 390 px');
  assert.ok(await phone.locator('.board .column').count() >= 4, 'the measured board has several columns');
  // The user's locale: German dates ("30. Nov.").
  assert.equal(await row(phone, 'old-1').locator('time .date').textContent(),
    new Intl.DateTimeFormat('de-DE', { day: 'numeric', month: 'short', ...(!sameYear && { year: 'numeric' }), timeZone: 'UTC' }).format(old));
  await assertAccessible(phone, 'the console at 390 px');
  await phone.screenshot({ path: join(OUTPUT, 'console-390.png'), fullPage: true });
});

test('survives a server restart: reconnects and resumes without gaps', { skip: browserSkip }, async () => {
  const { config, dir } = tempConfig();
  let srv = await startConsoleServer(config);
  const port = srv.port;
  cleanups.push(() => srv.close());
  const page = await open(srv);
  await page.locator('.link.live').waitFor();
  await json(srv.base, 'POST', '/v2/events', { id: 'before-restart', source: 's', type: 't' });
  await row(page, 'before-restart').waitFor();

  await srv.close();
  await page.locator('.link.reconnecting').waitFor();
  // While Herald is down another writer (e.g. herald bridge on the same database) stores events.
  const store = await openStore(`sqlite:${join(dir, 'herald.db')}`);
  await store.append([createEvent({ id: 'while-down-1', source: 's', type: 't' }), createEvent({ id: 'while-down-2', source: 's', type: 't' })]);
  await store.close();

  srv = await startConsoleServer(config, { port });
  cleanups.push(() => srv.close());
  await json(srv.base, 'POST', '/v2/events', { id: 'after-restart', source: 's', type: 't' });
  await row(page, 'after-restart').waitFor({ timeout: 30_000 });
  await page.locator('.link.live').waitFor();
  assert.deepEqual(await visibleIds(page), ['after-restart', 'while-down-2', 'while-down-1', 'before-restart']);
});

test('read tokens: the page asks for one and keeps it for the tab', { skip: browserSkip }, async () => {
  const { config } = tempConfig({ auth: { apiTokens: ['write-token-1'], readTokens: ['read-token-1'] } });
  const srv = await startConsoleServer(config);
  cleanups.push(() => srv.close());
  await json(srv.base, 'POST', '/v2/events', { id: 'secret-ev', source: 's', type: 't' }, 'write-token-1');
  const page = await open(srv);
  await page.locator('dialog.token[open]').waitFor();
  assert.equal(await row(page, 'secret-ev').count(), 0);
  await assertAccessible(page, 'the token prompt');
  await page.fill('#token-input', 'wrong-token');
  await page.keyboard.press('Enter');
  await page.locator('dialog.token[open] .token-message', { hasText: 'not accepted' }).waitFor();
  await page.fill('#token-input', 'read-token-1');
  await page.keyboard.press('Enter');
  await row(page, 'secret-ev').waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem('herald.readToken')), 'read-token-1');
  await page.reload();
  await row(page, 'secret-ev').waitFor();
  assert.equal(await page.locator('dialog.token[open]').count(), 0, 'no prompt again in the same tab');
});
