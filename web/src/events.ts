import { api, type Camera, type HeldarEvent } from './api';
import { errorBox, h } from './dom';
import { followSse } from './sse';
import { clock, localDay } from './time';

const KEEP = 200;

/** The live event feed over SSE; a click opens that moment on the camera's timeline. */
export async function eventsView(root: HTMLElement, go: (path: string) => void): Promise<() => void> {
  const cameras = await api<Camera[]>('GET', '/api/v1/cameras').catch(() => [] as Camera[]);
  const state = h('span', { id: 'feed-state', class: 'feed-state' }, 'connecting…');
  const filter = h(
    'select',
    { id: 'event-camera', 'aria-label': 'Camera', onchange: () => apply() },
    h('option', { value: '' }, 'all cameras'),
    ...cameras.map((c) => h('option', { value: c.id }, c.name)),
  );
  const list = h('ol', { id: 'events', class: 'events', reversed: true });
  const errors = h('div', {});
  root.append(h('div', { class: 'toolbar' }, h('h1', {}, 'Events'), filter, state), errors, list);
  const apply = () => {
    for (const li of Array.from(list.children) as HTMLElement[])
      li.hidden = !!filter.value && li.dataset.camera !== filter.value;
  };
  const add = (ev: HeldarEvent) => {
    const t = Date.parse(ev.timestamp);
    const li = h(
      'li',
      { class: `event-row sev-${ev.severity}`, 'data-seq': ev.seq, 'data-camera': ev.camera_id ?? '' },
      h('time', {}, `${localDay(t)} ${clock(t)}`),
      h('span', { class: 'type' }, ev.event_type),
      h('span', { class: 'cam' }, ev.camera_id ?? '—'),
      h('span', { class: 'sev' }, ev.severity),
    );
    if (ev.camera_id) {
      li.tabIndex = 0;
      const open = () => go(`/app/timeline/${encodeURIComponent(ev.camera_id!)}?day=${localDay(t)}&at=${t}`);
      li.addEventListener('click', open);
      li.addEventListener('keydown', (k) => k.key === 'Enter' && open());
    }
    list.prepend(li);
    while (list.children.length > KEEP) list.lastElementChild?.remove();
    apply();
  };
  // The last few, then the live ones from there on (no gap, no duplicate).
  let lastSeq: number | undefined;
  try {
    const rows = await api<HeldarEvent[]>('GET', '/api/v1/events?limit=50');
    for (const e of rows.reverse()) add(e);
    lastSeq = rows.length ? rows[rows.length - 1].seq : undefined;
  } catch (err) {
    errors.replaceChildren(errorBox(err));
  }
  const sub = followSse(
    '/api/v1/events/stream',
    (m) => {
      try {
        add(JSON.parse(m.data) as HeldarEvent);
      } catch {
        // not an event
      }
    },
    (s) => {
      if (typeof s === 'string') {
        state.textContent = s;
        errors.replaceChildren();
      } else {
        state.textContent = 'error';
        errors.replaceChildren(errorBox(new Error(s.error)));
      }
    },
    { lastId: lastSeq === undefined ? undefined : String(lastSeq) },
  );
  return () => sub.close();
}
