/**
 * The Herald web console: live event timeline, entities board and sinks panel. Everything is
 * bundled into this file and one stylesheet; nothing is loaded from elsewhere.
 */
import './console.css';
import { AuthError, getToken, readSse, setToken, sleep } from './api.js';
import { createBoard } from './board.js';
import { h } from './dom.js';
import { createSinksPanel, type Sample } from './sinks.js';
import { createTimeline } from './timeline.js';
import type { EntityState, HeraldEvent, LinkState, SinkStatus } from './types.js';

const LINK_TEXT: Record<LinkState, string> = {
  connecting: 'connecting…',
  live: 'live',
  reconnecting: 'reconnecting…',
  'needs-token': 'token needed',
};

function main() {
  const link = h('span', { class: 'link connecting', role: 'status', 'aria-live': 'polite' }, LINK_TEXT.connecting);
  const tokenButton = h('button', { type: 'button', class: 'token-button' }, getToken() === null ? 'Set token' : 'Change token');

  // Event details: a native modal dialog traps focus and closes on Escape.
  const detailTitle = h('h2', { id: 'detail-title' });
  const detailJson = h('pre', { class: 'json', tabindex: 0 });
  const closeDetail = h('button', { type: 'button', class: 'close' }, 'Close');
  const detail = h('dialog', { class: 'detail', 'aria-labelledby': 'detail-title' }, h('header', {}, detailTitle, closeDetail), detailJson);
  let returnFocus: HTMLElement | null = null;
  closeDetail.addEventListener('click', () => detail.close());
  detail.addEventListener('close', () => returnFocus?.focus());
  detail.addEventListener('click', (e) => { if (e.target === detail) detail.close(); });
  const openEvent = (event: HeraldEvent, from: HTMLElement) => {
    returnFocus = from;
    detailTitle.textContent = `${event.type} · ${event.id}`;
    // As stored: the server redacted secrets before storing, nothing is hidden or added here.
    detailJson.textContent = JSON.stringify(event, null, 2);
    detail.showModal();
    closeDetail.focus();
  };

  // The token prompt: shown when the server answers 401/403 or on demand.
  const tokenInput = h('input', { type: 'password', name: 'token', autocomplete: 'off', required: true, id: 'token-input' });
  const tokenMessage = h('p', { class: 'token-message' });
  const tokenDialog = h('dialog', { class: 'token', 'aria-labelledby': 'token-title' },
    h('form', { method: 'dialog' },
      h('h2', { id: 'token-title' }, 'Read token'),
      tokenMessage,
      h('label', { for: 'token-input' }, 'Token (kept for this tab only)'),
      tokenInput,
      h('div', { class: 'actions' },
        h('button', { type: 'submit', value: 'use' }, 'Use token'),
        h('button', { type: 'submit', value: 'cancel', formnovalidate: true }, 'Cancel'))));
  tokenDialog.addEventListener('close', () => {
    if (tokenDialog.returnValue === 'use' && tokenInput.value !== '') {
      setToken(tokenInput.value);
      tokenInput.value = '';
      tokenButton.textContent = 'Change token';
      startAll();
    }
  });
  const askToken = (message: string) => {
    if (tokenDialog.open) return;
    tokenMessage.textContent = message;
    tokenDialog.showModal();
    tokenInput.focus();
  };
  tokenButton.addEventListener('click', () => askToken('Herald is configured with read tokens; enter one to watch events.'));
  const onAuth = (err: AuthError) => {
    setLink('needs-token');
    askToken(err.status === 403 ? `The token was not accepted: ${err.message}` : 'This Herald needs a read token to show events.');
  };

  let linkEvents: LinkState = 'connecting';
  let linkLive: LinkState = 'connecting';
  function setLink(state: LinkState) {
    const worst = (['needs-token', 'reconnecting', 'connecting', 'live'] as const).find((s) => s === state || s === linkEvents || s === linkLive) ?? state;
    link.className = `link ${worst}`;
    link.textContent = LINK_TEXT[worst];
  }

  const timeline = createTimeline({
    onLink: (s) => { linkEvents = s; setLink(s); },
    onAuth,
    onOpenEvent: openEvent,
  });
  const board = createBoard();
  const sinks = createSinksPanel();

  // The live feed for board and sinks, reconnecting like the timeline does.
  let liveController: AbortController | undefined;
  async function followLive(signal: AbortSignal) {
    let delay = 500;
    while (!signal.aborted) {
      try {
        await readSse('/console/live', {
          onOpen: () => { delay = 500; linkLive = 'live'; setLink('live'); },
          onMessage: (m) => {
            if (m.event === 'entities') board.replaceAll(JSON.parse(m.data) as EntityState[]);
            else if (m.event === 'entity') board.update(JSON.parse(m.data) as EntityState);
            else if (m.event === 'sinks') sinks.update(JSON.parse(m.data) as SinkStatus[]);
            else if (m.event === 'sinks-history') sinks.seed(JSON.parse(m.data) as Record<string, Sample[]>);
          },
        }, signal);
      } catch (err) {
        if (signal.aborted) return;
        if (err instanceof AuthError) return onAuth(err);
      }
      if (signal.aborted) return;
      linkLive = 'reconnecting';
      setLink('reconnecting');
      await sleep(delay, signal);
      delay = Math.min(delay * 2, 5000);
    }
  }

  function startAll() {
    linkEvents = 'connecting';
    linkLive = 'connecting';
    timeline.restart();
    liveController?.abort();
    liveController = new AbortController();
    void followLive(liveController.signal);
  }

  document.body.append(
    h('a', { class: 'skip', href: '#timeline-title' }, 'Skip to events'),
    h('header', { class: 'top' },
      h('h1', {}, 'Herald'),
      link,
      h('nav', { 'aria-label': 'Links' }, h('a', { href: '/docs' }, 'API docs'), tokenButton)),
    h('main', { class: 'layout' }, timeline.element, h('div', { class: 'side' }, board.element, sinks.element)),
    detail,
    tokenDialog);
  startAll();
}

main();
