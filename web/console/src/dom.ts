/**
 * A tiny element builder. Text always goes in through textContent, never innerHTML: event
 * messages and data come from anyone holding a write token.
 */
export type Child = Node | string | number | null | undefined | false;

/** Creates an element with attributes (strings; `on*` keys take listeners) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number | boolean | EventListener | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.slice(2).toLowerCase(), v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

/** Appends children, turning strings and numbers into text nodes. */
export function append(el: Element, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
}

/** "3m 12s", "2h 5m", "4d 1h": how long something has been in a state. */
export function duration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const hr = Math.floor(m / 60);
  if (hr < 24) return `${hr}h ${m % 60}m`;
  return `${Math.floor(hr / 24)}d ${hr % 24}h`;
}

/**
 * How a timestamp reads here: the time of day, plus the date (in the user's locale, the year
 * only when it is not this one) unless it is today, and the full date and time with the
 * time zone for a tooltip. Today is decided when called: see `retime` for midnight.
 */
export function when(iso: string, now = new Date()): { date: string | null; time: string; full: string } {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return { date: null, time: iso, full: iso };
  const time = d.toLocaleTimeString(undefined, { hour12: false });
  const full = d.toLocaleString(undefined, { dateStyle: 'full', timeStyle: 'long' });
  if (d.toDateString() === now.toDateString()) return { date: null, time, full };
  const date = d.toLocaleDateString(undefined, { day: 'numeric', month: 'short', ...(d.getFullYear() !== now.getFullYear() && { year: 'numeric' }) });
  return { date, time, full };
}

function fillTime(el: HTMLTimeElement, iso: string): void {
  const w = when(iso);
  el.title = w.full;
  // The space keeps date and time apart in the accessible name when CSS stacks them.
  el.replaceChildren(...(w.date === null ? [] : [h('span', { class: 'date' }, w.date), ' ']), h('span', { class: 'tod' }, w.time));
}

/** A <time> element for a timestamp: machine-readable `datetime`, full timestamp as title. */
export function timeElement(iso: string): HTMLTimeElement {
  const el = h('time', { datetime: iso });
  fillTime(el, iso);
  return el;
}

/** Re-renders every timestamp under `root`: after midnight yesterday's events gain their date. */
export function retime(root: ParentNode): void {
  for (const el of root.querySelectorAll<HTMLTimeElement>('time[datetime]')) fillTime(el, el.dateTime);
}
