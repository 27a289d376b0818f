import { api, type Camera, type HeldarEvent } from './api';
import { errorBox, h } from './dom';
import { followSse, type SseHandle } from './sse';
import { clock, localDay } from './time';

const KEEP = 200;
const SEVERITIES = ['info', 'warning', 'critical'];

/** The query of a filter, for the history and the live stream alike (the kernel filters both). */
export function eventQuery(
  f: { camera: string; type: string; severity: string },
  severityParam: 'severity' | 'min_severity',
): string {
  const q = new URLSearchParams();
  if (f.camera) q.set('camera_id', f.camera);
  if (f.type) q.set('event_type', f.type);
  if (f.severity) q.set(severityParam, f.severity);
  return q.toString();
}

/**
 * The event feed: the latest events then the live ones over SSE (resumes after a drop), filtered by
 * camera, type and minimum severity (kept in the URL); a click opens that moment on the timeline.
 */
export async function eventsView(
  root: HTMLElement,
  go: (path: string) => void,
  params: URLSearchParams = new URLSearchParams(),
): Promise<() => void> {
  const [cameras, types] = await Promise.all([
    api<Camera[]>('GET', '/api/v1/cameras').catch(() => [] as Camera[]),
    api<Array<{ event_type: string }>>('GET', '/api/v1/events/types').catch(() => []),
  ]);
  const state = h('span', { id: 'feed-state', class: 'feed-state' }, 'connecting…');
  const option = (value: string, label: string, selected: string | null) => {
    const o = h('option', { value }, label);
    o.selected = value === (selected ?? '');
    return o;
  };
  const camera = h(
    'select',
    { id: 'event-camera', 'aria-label': 'Camera' },
    option('', 'all cameras', params.get('camera_id')),
    ...cameras.map((c) => option(c.id, c.name, params.get('camera_id'))),
  );
  const type = h(
    'select',
    { id: 'event-type', 'aria-label': 'Event type' },
    option('', 'all types', params.get('event_type')),
    option('zone_*', 'zone events', params.get('event_type')),
    ...types.map((t) => option(t.event_type, t.event_type, params.get('event_type'))),
  );
  const severity = h(
    'select',
    { id: 'event-severity', 'aria-label': 'Minimum severity' },
    option('', 'any severity', params.get('severity')),
    ...SEVERITIES.map((s) => option(s, `${s} and above`, params.get('severity'))),
  );
  const list = h('ol', { id: 'events', class: 'events', reversed: true });
  const errors = h('div', {});
  root.append(
    h('div', { class: 'toolbar' }, h('h1', {}, 'Events'), camera, type, severity, state),
    errors,
    list,
  );

  const add = (ev: HeldarEvent) => {
    const t = Date.parse(ev.timestamp);
    const li = h(
      'li',
      {
        class: `event-row sev-${ev.severity}`,
        'data-seq': ev.seq,
        'data-camera': ev.camera_id ?? '',
        'data-type': ev.event_type,
      },
      h('time', {}, `${localDay(t)} ${clock(t)}`),
      h('span', { class: 'type' }, ev.event_type),
      h('span', { class: 'cam' }, ev.camera_id ?? '—'),
      h('span', { class: 'sev' }, ev.severity),
    );
    if (ev.camera_id) {
      li.tabIndex = 0;
      li.title = 'Open this moment on the timeline';
      const open = () => go(`/app/timeline/${encodeURIComponent(ev.camera_id!)}?day=${localDay(t)}&at=${t}`);
      li.addEventListener('click', open);
      li.addEventListener('keydown', (k) => k.key === 'Enter' && open());
    }
    list.prepend(li);
    while (list.children.length > KEEP) list.lastElementChild?.remove();
  };

  let sub: SseHandle | null = null;
  let generation = 0;
  /** (Re)loads the history for the filter, then follows the live stream with it from the last seq. */
  const load = async () => {
    const g = ++generation;
    sub?.close();
    sub = null;
    list.replaceChildren();
    errors.replaceChildren();
    state.textContent = 'connecting…';
    const f = { camera: camera.value, type: type.value, severity: severity.value };
    let lastSeq: number | undefined;
    try {
      const q = eventQuery(f, 'severity');
      const rows = await api<HeldarEvent[]>('GET', `/api/v1/events?limit=50${q ? `&${q}` : ''}`);
      if (g !== generation) return;
      for (const e of rows.reverse()) add(e);
      lastSeq = rows.length ? rows[rows.length - 1].seq : undefined;
    } catch (err) {
      if (g !== generation) return;
      errors.replaceChildren(errorBox(err));
    }
    const q = eventQuery(f, 'min_severity');
    // With no history, follow from now: the stream without a cursor starts live.
    sub = followSse(
      `/api/v1/events/stream${q ? `?${q}` : ''}`,
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
  };
  const changed = () => {
    const q = eventQuery({ camera: camera.value, type: type.value, severity: severity.value }, 'severity');
    history.replaceState(null, '', `/app/events${q ? `?${q}` : ''}`);
    void load();
  };
  for (const s of [camera, type, severity]) s.addEventListener('change', changed);
  await load();
  return () => {
    generation++;
    sub?.close();
  };
}
