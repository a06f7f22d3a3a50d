/**
 * The entities board: one block per kind, one column per state, a card per entity with its
 * run number (when it has one) and how long it has been in that state. Fed by the console's
 * live feed: the whole board when the feed opens, then one entity per state change.
 */
import { duration, h } from './dom.js';
import type { EntityState } from './types.js';

/** States people look for first; others follow alphabetically. */
const STATE_ORDER = ['RUNNING', 'CONFIGURED', 'STANDBY', 'DEPLOYED', 'ERROR', 'UNKNOWN'];

const stateRank = (s: string) => {
  const i = STATE_ORDER.indexOf(s);
  return i < 0 ? STATE_ORDER.length : i;
};

/** Run number under the names the ecosystems use (ALICE ECS runNumber, snake case elsewhere). */
function runNumber(a: Record<string, unknown>): string | undefined {
  for (const k of ['runNumber', 'run_number', 'run']) {
    const v = a[k];
    if (typeof v === 'number' || (typeof v === 'string' && v !== '')) return String(v);
  }
  return undefined;
}

export interface Board {
  readonly element: HTMLElement;
  replaceAll(entities: EntityState[]): void;
  update(entity: EntityState): void;
}

export function createBoard(): Board {
  const entities = new Map<string, EntityState>();
  const body = h('div', { class: 'board-body' });
  const element = h('section', { class: 'panel board', 'aria-labelledby': 'board-title' }, h('h2', { id: 'board-title' }, 'Entities'), body);

  function render() {
    const byKind = new Map<string, EntityState[]>();
    for (const e of entities.values()) {
      const list = byKind.get(e.kind) ?? [];
      list.push(e);
      byKind.set(e.kind, list);
    }
    if (byKind.size === 0) {
      body.replaceChildren(h('p', { class: 'empty' }, 'No entities yet. Set a state with PUT /v2/entities/{kind}/{id}/state.'));
      return;
    }
    const blocks = [...byKind.keys()].sort().map((kind) => {
      const list = byKind.get(kind)!;
      const states = [...new Set(list.map((e) => e.state))].sort((a, b) => stateRank(a) - stateRank(b) || a.localeCompare(b));
      return h('section', { class: 'kind', 'data-kind': kind, 'aria-label': `${kind} entities` },
        h('h3', {}, kind),
        h('div', { class: 'columns' }, ...states.map((state) => {
          const inState = list.filter((e) => e.state === state).sort((a, b) => a.id.localeCompare(b.id));
          return h('section', { class: `column state-${state.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`, 'data-state': state, 'aria-label': `${kind} in ${state}` },
            h('h4', {}, state, ' ', h('span', { class: 'n' }, `(${inState.length})`)),
            h('ul', {}, ...inState.map((e) => {
              const run = runNumber(e.attributes);
              return h('li', { class: 'card', 'data-id': e.id, title: e.previous ? `previously ${e.previous}` : 'new' },
                h('span', { class: 'id' }, e.id),
                run !== undefined ? h('span', { class: 'run' }, `run ${run}`) : null,
                h('span', { class: 'since', 'data-since': e.enteredAt }, `for ${duration(Date.now() - Date.parse(e.enteredAt))}`));
            })));
        })));
    });
    body.replaceChildren(...blocks);
  }

  // Time in state ticks without re-rendering the board (keeps focus and scroll position).
  setInterval(() => {
    for (const el of body.querySelectorAll<HTMLElement>('[data-since]')) {
      el.textContent = `for ${duration(Date.now() - Date.parse(el.dataset.since!))}`;
    }
  }, 1000);

  render();
  return {
    element,
    replaceAll(list) {
      entities.clear();
      for (const e of list) entities.set(`${e.kind}\u0000${e.id}`, e);
      render();
    },
    update(e) {
      entities.set(`${e.kind}\u0000${e.id}`, e);
      render();
    },
  };
}
