import {
  api,
  type Camera,
  type Gap,
  type HeldarEvent,
  type KeepWindow,
  type Me,
  type PlaybackSession,
  type TimeRange,
} from './api';
import { errorBox, h } from './dom';
import { playHls } from './player';
import { at, clock, localDay, span, windowOf, zoomWindow } from './time';

interface Timeline {
  ranges: TimeRange[];
  recorded_seconds: number;
}
interface Gaps {
  gaps: Gap[];
}

/** Gap colours, by cause (neither `not_scheduled` nor `no_event` is a failure). */
export const GAP_LABELS: Record<string, string> = {
  camera_offline: 'camera offline',
  recorder_stopped: 'recorder stopped',
  server_down: 'server down',
  storage_error: 'storage error',
  not_scheduled: 'not scheduled',
  no_event: 'no event',
  unknown: 'unknown',
};

/** One camera's day: recorded ranges, gaps by cause, keep windows, events; click to play from there. */
export async function timelineView(
  root: HTMLElement,
  _me: Me,
  cameraId: string,
  params: URLSearchParams,
  go: (path: string) => void,
): Promise<() => void> {
  let stopPlayer: (() => void) | null = null;
  let session: PlaybackSession | null = null;
  const day = params.get('day') ?? localDay(Number(params.get('from')) || Date.now());
  const bounds = windowOf(params, day);
  const { from, to } = bounds;
  const q = `from=${encodeURIComponent(new Date(from).toISOString())}&to=${encodeURIComponent(new Date(to).toISOString())}`;
  const cid = encodeURIComponent(cameraId);
  const cameras = await api<Camera[]>('GET', '/api/v1/cameras');
  const picker = h(
    'select',
    {
      id: 'camera-picker',
      'aria-label': 'Camera',
      onchange: (ev) =>
        go(`/app/timeline/${encodeURIComponent((ev.target as HTMLSelectElement).value)}?day=${day}`),
    },
    ...cameras.map((c) => {
      const o = h('option', { value: c.id }, c.name);
      o.selected = c.id === cameraId;
      return o;
    }),
  );
  const zoom = (factor: number) => {
    const z = zoomWindow(from, to, factor);
    go(`/app/timeline/${cid}?day=${day}&from=${z.from}&to=${z.to}`);
  };
  const shift = (days: number) => {
    const d = new Date(from);
    d.setDate(d.getDate() + days);
    go(`/app/timeline/${cid}?day=${localDay(d.getTime())}`);
  };
  root.append(
    h(
      'div',
      { class: 'toolbar' },
      h('h1', {}, 'Timeline'),
      picker,
      h('button', { onclick: () => shift(-1), 'aria-label': 'Previous day' }, '◀'),
      h('span', { id: 'day' }, day),
      h('button', { onclick: () => shift(1), 'aria-label': 'Next day' }, '▶'),
      h('button', { id: 'zoom-in', onclick: () => zoom(0.25), 'aria-label': 'Zoom in' }, '+'),
      h('button', { id: 'zoom-out', onclick: () => zoom(4), 'aria-label': 'Zoom out' }, '−'),
      h('span', { id: 'window', class: 'note' }, `${clock(from)} – ${clock(to)}`),
    ),
  );
  const [timeline, gaps, windows, events] = await Promise.all([
    api<Timeline>('GET', `/api/v1/cameras/${cid}/timeline?${q}`),
    api<Gaps>('GET', `/api/v1/cameras/${cid}/gaps?${q}`),
    api<KeepWindow[]>('GET', `/api/v1/cameras/${cid}/keep-windows?${q}`).catch(() => [] as KeepWindow[]),
    api<HeldarEvent[]>('GET', `/api/v1/events?camera_id=${cid}&limit=500`).catch(() => [] as HeldarEvent[]),
  ]);

  const track = h('div', {
    class: 'track',
    id: 'track',
    role: 'slider',
    tabindex: 0,
    'aria-label': 'Time of day: click to play from there',
    'aria-valuemin': from,
    'aria-valuemax': to,
  });
  const place = (el: HTMLElement, s: number, e: number) => {
    const { left, width } = span(s, e, from, to);
    el.style.left = `${left}%`;
    el.style.width = `max(${width}%, 2px)`;
    return el;
  };
  for (const w of windows)
    track.append(
      place(h('div', { class: 'keep', title: `kept: ${w.reason}` }), Date.parse(w.start), Date.parse(w.end)),
    );
  for (const r of timeline.ranges)
    track.append(
      place(
        h('div', {
          class: 'range',
          title: `recorded ${clock(Date.parse(r.start))}–${clock(Date.parse(r.end))}`,
        }),
        Date.parse(r.start),
        Date.parse(r.end),
      ),
    );
  for (const g of gaps.gaps)
    track.append(
      place(
        h('div', {
          class: `gap gap-${g.cause}`,
          'data-cause': g.cause,
          title: `gap ${clock(Date.parse(g.start))}–${clock(Date.parse(g.end))}: ${GAP_LABELS[g.cause] ?? g.cause}`,
        }),
        Date.parse(g.start),
        Date.parse(g.end),
      ),
    );
  for (const ev of events) {
    const t = Date.parse(ev.timestamp);
    if (t < from || t >= to) continue;
    const m = h('div', { class: `event sev-${ev.severity}`, title: `${ev.event_type} at ${clock(t)}` });
    m.style.left = `${span(t, t, from, to).left}%`;
    track.append(m);
  }
  const ticks = h('div', { class: 'ticks' });
  for (let i = 0; i <= 8; i++) {
    const t = h('span', {}, clock(at(i / 8, from, to)).slice(0, to - from > 600_000 ? 5 : 8));
    t.style.left = `${(i / 8) * 100}%`;
    ticks.append(t);
  }
  const legend = h(
    'div',
    { class: 'legend' },
    h('span', { class: 'sw range' }),
    'recorded ',
    h('span', { class: 'sw keep' }),
    'kept (event) ',
    ...Object.entries(GAP_LABELS).flatMap(([cause, label]) => [
      h('span', { class: `sw gap gap-${cause}` }),
      `${label} `,
    ]),
  );
  const summary = h(
    'p',
    { class: 'summary', id: 'summary' },
    `${timeline.ranges.length} recorded range(s), ${Math.round(timeline.recorded_seconds)} s recorded, ${gaps.gaps.length} gap(s)`,
  );
  const video = h('video', { id: 'playback', controls: true, muted: true, playsinline: true });
  const wallclock = h('div', { id: 'wallclock', class: 'wallclock', 'aria-live': 'polite' }, '');
  const status = h('div', { id: 'playback-status' });
  root.append(
    summary,
    h('div', { class: 'timeline' }, track, ticks),
    legend,
    h('div', { class: 'player' }, video, wallclock, status),
  );

  const playFrom = async (startMs: number) => {
    stopPlayer?.();
    stopPlayer = null;
    status.replaceChildren('Opening playback…');
    wallclock.textContent = '';
    delete video.dataset.playing;
    if (session)
      void api('DELETE', `/api/v1/playback/${encodeURIComponent(session.id)}`).catch(() => undefined);
    try {
      const end = Math.min(to, Date.now());
      session = await api<PlaybackSession>('POST', `/api/v1/cameras/${cid}/playback`, {
        from: new Date(startMs).toISOString(),
        to: new Date(Math.max(end, startMs + 1000)).toISOString(),
      });
    } catch (err) {
      status.replaceChildren(errorBox(err));
      return;
    }
    status.replaceChildren(`Playing from ${clock(startMs)}`);
    const p = playHls(video, session.playlist_url, {
      onError: (msg) => status.replaceChildren(errorBox(new Error(`playback failed: ${msg}`))),
    });
    const onTime = () => {
      const d = p.hls?.playingDate;
      if (d) {
        wallclock.textContent = `${localDay(d.getTime())} ${clock(d.getTime())}`;
        wallclock.dataset.ms = String(d.getTime());
      }
    };
    video.addEventListener('timeupdate', onTime);
    video.addEventListener('playing', () => (video.dataset.playing = 'true'), { once: true });
    stopPlayer = () => {
      video.removeEventListener('timeupdate', onTime);
      p.destroy();
    };
  };
  track.addEventListener('click', (ev) => {
    const r = track.getBoundingClientRect();
    void playFrom(at((ev.clientX - r.left) / r.width, from, to));
  });
  const jump = params.get('at');
  if (jump && Number.isFinite(Number(jump))) void playFrom(Number(jump));
  return () => {
    stopPlayer?.();
    if (session)
      void api('DELETE', `/api/v1/playback/${encodeURIComponent(session.id)}`).catch(() => undefined);
  };
}
