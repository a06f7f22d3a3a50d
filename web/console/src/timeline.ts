/**
 * The live event timeline: the newest events first, loaded from GET /v2/events and kept up to
 * date by GET /v2/events/stream. After any disconnect (network, server restart) it reconnects
 * with the id of the last event it has, so the server sends exactly what was missed.
 */
import { AuthError, getJson, readSse, sleep } from './api.js';
import { h, retime, timeElement } from './dom.js';
import { SEVERITIES, type HeraldEvent, type LinkState } from './types.js';

/** At most this many events stay on the page; older ones are a GET /v2/events away. */
const MAX_EVENTS = 500;
const INITIAL = 200;

interface Filters {
  entity: string;
  severity: string;
  type: string;
  text: string;
}

/** Severity choices: single ones and "or worse" ranges, the way people triage. */
const SEVERITY_CHOICES: Array<[string, string]> = [
  ['', 'any severity'],
  ...SEVERITIES.map((s): [string, string] => [s, s]),
  ['warning,error,critical', 'warning or worse'],
  ['error,critical', 'error or worse'],
];

/** The query string for the filters (the list's and the stream's parameters are the same). */
export function filterParams(f: Filters): URLSearchParams {
  const p = new URLSearchParams();
  const entity = f.entity.trim();
  if (entity !== '') {
    const i = entity.indexOf(':');
    if (i < 0) p.set('entity_kind', entity);
    else {
      if (i > 0) p.set('entity_kind', entity.slice(0, i));
      if (entity.slice(i + 1) !== '') p.set('entity_id', entity.slice(i + 1));
    }
  }
  if (f.severity !== '') p.set('severities', f.severity);
  if (f.type.trim() !== '') p.set('types', f.type.trim());
  if (f.text.trim() !== '') p.set('message', f.text.trim());
  return p;
}

export interface Timeline {
  readonly element: HTMLElement;
  /** (Re)loads with the current filters and follows the stream. */
  restart(): void;
  stop(): void;
}

export function createTimeline(deps: {
  onLink: (state: LinkState, detail?: string) => void;
  onAuth: (err: AuthError) => void;
  onOpenEvent: (event: HeraldEvent, from: HTMLElement) => void;
}): Timeline {
  const filters: Filters = { entity: '', severity: '', type: '', text: '' };
  let events: HeraldEvent[] = [];
  const ids = new Set<string>();
  let lastId: string | undefined;
  let controller: AbortController | undefined;

  const list = h('ol', { class: 'events', 'aria-label': 'Events, newest first' });
  // Not a live region: it changes with every event, which would flood a screen reader.
  const count = h('p', { class: 'count' });
  const error = h('p', { class: 'error', role: 'alert', hidden: true });

  let debounce: ReturnType<typeof setTimeout> | undefined;
  const changed = (key: keyof Filters) => (e: Event) => {
    filters[key] = (e.target as HTMLInputElement | HTMLSelectElement).value;
    clearTimeout(debounce);
    debounce = setTimeout(restart, e.type === 'change' ? 0 : 300);
  };
  const field = (key: keyof Filters, label: string, placeholder: string) =>
    h('label', {}, h('span', {}, label), h('input', { type: 'search', name: key, placeholder, autocomplete: 'off', spellcheck: 'false', onInput: changed(key) }));
  const severity = h('select', { name: 'severity', onChange: changed('severity') },
    ...SEVERITY_CHOICES.map(([value, label]) => h('option', { value }, label)));
  const form = h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter events', onSubmit: (e: Event) => { e.preventDefault(); restart(); } },
    field('entity', 'Entity', 'kind or kind:id'),
    h('label', {}, h('span', {}, 'Severity'), severity),
    field('type', 'Type', 'exact, comma-separated'),
    field('text', 'Text', 'words in the message'));

  const element = h('section', { class: 'panel timeline', 'aria-labelledby': 'timeline-title' },
    h('h2', { id: 'timeline-title' }, 'Events'), form, count, error, list);

  function row(e: HeraldEvent): HTMLElement {
    // Named by its visible text (no aria-label): speech users can say what they see, and a
    // screen reader reads what is shown. aria-haspopup says it opens the details dialog.
    const button = h('button', { type: 'button', class: `event sev-${e.severity}`, 'data-id': e.id, 'aria-haspopup': 'dialog' },
      timeElement(e.time),
      h('span', { class: `sev sev-${e.severity}` }, e.severity),
      h('span', { class: 'type' }, e.type),
      e.entity ? h('span', { class: 'entity' }, `${e.entity.kind}:${e.entity.id}`) : null,
      h('span', { class: 'message' }, e.message ?? e.subject ?? ''));
    // A button: click, Enter and Space all open it, without extra key handling.
    button.addEventListener('click', () => deps.onOpenEvent(e, button));
    return h('li', {}, button);
  }

  // Times carry no date when they are today's: after midnight, give yesterday's theirs.
  let today = new Date().toDateString();
  setInterval(() => {
    const now = new Date().toDateString();
    if (now !== today) { today = now; retime(list); }
  }, 60_000);

  function renderCount() {
    count.textContent = events.length === 0 ? 'No events match.' : `${events.length} event${events.length === 1 ? '' : 's'} shown${events.length >= MAX_EVENTS ? ' (the newest)' : ''}.`;
  }

  function add(newOnes: HeraldEvent[]) {
    const fresh = newOnes.filter((e) => !ids.has(e.id));
    if (fresh.length === 0) return;
    for (const e of fresh) ids.add(e.id);
    // Newest first: the stream delivers oldest first, so reverse before putting on top.
    const rows = fresh.slice().reverse();
    events = [...rows, ...events];
    list.prepend(...rows.map(row));
    while (events.length > MAX_EVENTS) {
      const gone = events.pop()!;
      ids.delete(gone.id);
      list.lastElementChild?.remove();
    }
    renderCount();
  }

  async function run(signal: AbortSignal) {
    const params = filterParams(filters);
    error.hidden = true;
    deps.onLink('connecting');
    events = [];
    ids.clear();
    list.replaceChildren();
    lastId = undefined;
    let delay = 500;
    // First the recent history, then the stream from right after it.
    for (;;) {
      try {
        const q = new URLSearchParams(params);
        q.set('order', 'descending');
        q.set('limit', String(INITIAL));
        const page = await getJson<HeraldEvent[]>(`/v2/events?${q}`, signal);
        add(page.slice().reverse());
        lastId = page[0]?.id;
        break;
      } catch (err) {
        if (signal.aborted) return;
        if (err instanceof AuthError) return deps.onAuth(err);
        error.textContent = `Cannot load events: ${(err as Error).message}`;
        error.hidden = false;
        // A 400 is a bad filter: retrying will not help until the filter changes.
        if (/invalid query parameter/.test((err as Error).message)) { deps.onLink('live'); return; }
        deps.onLink('reconnecting', (err as Error).message);
        await sleep(delay, signal);
        delay = Math.min(delay * 2, 5000);
        if (signal.aborted) return;
      }
    }
    error.hidden = true;
    delay = 500;
    while (!signal.aborted) {
      const q = new URLSearchParams(params);
      if (lastId !== undefined) q.set('last_event_id', lastId);
      const resumed = lastId !== undefined;
      try {
        await readSse(`/v2/events/stream?${q}`, {
          onOpen: () => {
            delay = 500;
            deps.onLink('live');
            // Without an id to resume from, events stored between the list and the stream's
            // start would be missed: fetch the list once more (duplicates are dropped).
            if (!resumed) {
              const again = new URLSearchParams(params);
              again.set('order', 'descending');
              again.set('limit', String(INITIAL));
              getJson<HeraldEvent[]>(`/v2/events?${again}`, signal).then((page) => {
                add(page.slice().reverse());
                lastId ??= page[0]?.id;
              }).catch(() => undefined);
            }
          },
          onMessage: (m) => {
            if (m.event !== 'message' && m.event !== 'event') return;
            const e = JSON.parse(m.data) as HeraldEvent;
            add([e]);
            lastId = m.id ?? e.id;
          },
        }, signal);
      } catch (err) {
        if (signal.aborted) return;
        if (err instanceof AuthError) return deps.onAuth(err);
      }
      if (signal.aborted) return;
      deps.onLink('reconnecting');
      await sleep(delay, signal);
      delay = Math.min(delay * 2, 5000);
    }
  }

  function restart() {
    controller?.abort();
    controller = new AbortController();
    void run(controller.signal);
  }

  return {
    element,
    restart,
    stop: () => controller?.abort(),
  };
}
