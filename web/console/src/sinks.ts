/**
 * The sinks panel: per sink whether it is connected or failing, the outbox lag (pending),
 * delivered and failed counts, the last error, and sparklines of throughput and lag over the
 * last minutes, sampled from the status the live feed sends every few seconds.
 */
import { h, timeElement } from './dom.js';
import type { SinkStatus } from './types.js';

/** Samples kept per sink: five minutes at the feed's two-second pace. */
const HISTORY = 150;

export interface Sample { t: number; delivered: number; pending: number }

const SVG = 'http://www.w3.org/2000/svg';

/** A tiny line chart; the numbers are in the text next to it, so it is decorative. */
function sparkline(values: number[], label: string): SVGSVGElement {
  const w = 120;
  const ht = 28;
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `0 0 ${w} ${ht}`);
  svg.setAttribute('class', 'spark');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', label);
  const max = Math.max(1, ...values);
  const step = values.length > 1 ? w / (values.length - 1) : w;
  const points = values.map((v, i) => `${(i * step).toFixed(1)},${(ht - 2 - (v / max) * (ht - 4)).toFixed(1)}`).join(' ');
  const line = document.createElementNS(SVG, 'polyline');
  line.setAttribute('points', values.length > 0 ? points : `0,${ht - 2} ${w},${ht - 2}`);
  svg.append(line);
  return svg;
}

export interface SinksPanel {
  readonly element: HTMLElement;
  /** The server's recent samples (sent when the feed opens), so the charts start filled. */
  seed(history: Record<string, Sample[]>): void;
  update(sinks: SinkStatus[]): void;
}

/** connected, failing or disabled: the word shown, also used as the CSS class. */
export function health(s: SinkStatus): 'connected' | 'failing' | 'disabled' {
  if (!s.enabled) return 'disabled';
  return s.connected ? 'connected' : 'failing';
}

export function createSinksPanel(): SinksPanel {
  const history = new Map<string, Sample[]>();
  // The status right after the seed is the seed's newest sample: render it, do not count it twice.
  let seeded = false;
  const body = h('div', { class: 'sinks-body' }, h('p', { class: 'empty' }, 'Waiting for sink status…'));
  const element = h('section', { class: 'panel sinks', 'aria-labelledby': 'sinks-title' }, h('h2', { id: 'sinks-title' }, 'Sinks'), body);

  function card(s: SinkStatus): HTMLElement {
    const samples = history.get(s.name) ?? [];
    const rates: number[] = [];
    for (let i = 1; i < samples.length; i++) {
      const a = samples[i - 1]!;
      const b = samples[i]!;
      rates.push(Math.max(0, (b.delivered - a.delivered) / Math.max(0.001, (b.t - a.t) / 1000)));
    }
    const rate = rates.at(-1) ?? 0;
    const state = health(s);
    const stat = (label: string, value: string | number, cls = '') => h('div', { class: `stat ${cls}` }, h('dt', {}, label), h('dd', {}, String(value)));
    return h('article', { class: `sink ${state}`, 'data-sink': s.name, 'aria-label': `sink ${s.name}: ${state}` },
      h('header', {},
        h('h3', {}, s.name),
        h('span', { class: 'kind' }, `${s.type} · ${s.profile}`),
        h('span', { class: `badge ${state}` }, state)),
      h('dl', {},
        stat('pending', s.pending, s.pending > 0 ? 'warn' : ''),
        stat('delivered', s.delivered),
        stat('failed', s.failed, s.failed > 0 ? 'bad' : ''),
        stat('parked', s.parked, s.parked > 0 ? 'bad' : ''),
        stat('oldest pending', s.oldestPendingAgeSeconds === null ? '–' : `${Math.round(s.oldestPendingAgeSeconds)}s`)),
      h('div', { class: 'charts' },
        h('figure', {}, sparkline(rates, `throughput, last ${rates.length} samples`), h('figcaption', {}, `${rate.toFixed(1)}/s delivered`)),
        h('figure', {}, sparkline(samples.map((x) => x.pending), `lag, last ${samples.length} samples`), h('figcaption', {}, `${s.pending} pending`))),
      s.lastError !== null
        ? h('p', { class: 'last-error' }, h('strong', {}, 'Last error'), s.lastErrorAt !== null ? h('span', { class: 'at' }, ' (', timeElement(s.lastErrorAt), ')') : null, ': ', h('span', { class: 'text' }, s.lastError))
        : null);
  }

  return {
    element,
    seed(samples) {
      history.clear();
      // Server times, shifted so the newest sample is "now" here: only differences matter.
      const newest = Math.max(0, ...Object.values(samples).flatMap((list) => list.map((x) => x.t)));
      const shift = Date.now() - newest;
      for (const [name, list] of Object.entries(samples)) history.set(name, list.slice(-HISTORY).map((x) => ({ ...x, t: x.t + shift })));
      seeded = true;
    },
    update(sinks) {
      const now = Date.now();
      const skip = seeded;
      seeded = false;
      for (const s of sinks) {
        if (skip && history.has(s.name)) continue;
        const list = history.get(s.name) ?? [];
        list.push({ t: now, delivered: s.delivered, pending: s.pending });
        if (list.length > HISTORY) list.shift();
        history.set(s.name, list);
      }
      body.replaceChildren(...(sinks.length === 0
        ? [h('p', { class: 'empty' }, 'No sinks configured (or streaming is off): events are stored only.')]
        : sinks.map(card)));
    },
  };
}
