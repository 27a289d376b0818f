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
import { exportPanel } from './export';
import {
  at,
  clock,
  localDay,
  panWindow,
  span,
  stepEvent,
  tickLabel,
  windowOf,
  zoomAround,
  zoomWindow,
} from './time';

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

/**
 * One camera's day (zoomable from a minute to four weeks: buttons, the wheel, the keyboard):
 * recorded ranges, gaps by cause, keep windows, events and zone events as markers; click to play
 * from there, step to the previous/next event, drag a range to export it.
 */
export async function timelineView(
  root: HTMLElement,
  me: Me,
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
  // A keyboard zoom or move keeps the focus on the track across the re-render.
  const show = (w: { from: number; to: number }) =>
    go(
      `/app/timeline/${cid}?day=${localDay((w.from + w.to) / 2)}&from=${w.from}&to=${w.to}` +
        (document.activeElement?.id === 'track' ? '&focus=track' : ''),
    );
  const zoom = (factor: number) => show(zoomWindow(from, to, factor));
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
      h(
        'span',
        { id: 'window', class: 'note' },
        `${tickLabel(from, to - from)} – ${tickLabel(to, to - from)}`,
      ),
      h(
        'button',
        { id: 'prev-event', onclick: () => step(-1), 'aria-label': 'Previous event' },
        'Previous event',
      ),
      h('button', { id: 'next-event', onclick: () => step(1), 'aria-label': 'Next event' }, 'Next event'),
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
    'aria-label':
      'Timeline: click to play from there, drag to select a range to export; + and − zoom, arrows move, [ and ] step between events',
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
    const m = h('div', {
      class: `event sev-${ev.severity}${ev.event_type.startsWith('zone_') ? ' zone' : ''}`,
      title: `${ev.event_type} at ${clock(t)}`,
      'data-seq': ev.seq,
      'data-ms': t,
    });
    m.style.left = `${span(t, t, from, to).left}%`;
    track.append(m);
  }
  const ticks = h('div', { class: 'ticks' });
  for (let i = 0; i <= 8; i++) {
    const t = h('span', {}, tickLabel(at(i / 8, from, to), to - from));
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
  const selection = h('div', { class: 'selection', id: 'selection', hidden: true });
  track.append(selection);
  const showSelection = (a: number, b: number) => {
    place(selection, Math.min(a, b), Math.max(a, b));
    selection.hidden = false;
  };
  const exporter = exportPanel(me, cameraId, showSelection);
  root.append(
    summary,
    h('div', { class: 'timeline' }, track, ticks),
    legend,
    h('div', { class: 'player' }, video, wallclock, status),
    exporter.el,
  );
  /** Where "previous/next event" steps from: the last seek, or the footage's clock once it moved on. */
  let cursor: number | null = null;

  const playFrom = async (startMs: number) => {
    cursor = startMs;
    track.setAttribute('aria-valuenow', String(startMs));
    track.setAttribute('aria-valuetext', `${localDay(startMs)} ${clock(startMs)}`);
    stopPlayer?.();
    stopPlayer = null;
    status.replaceChildren('Opening playback…');
    wallclock.textContent = '';
    delete wallclock.dataset.ms;
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
      startAtMs: startMs,
    });
    const onTime = () => {
      // Only from a decoded frame of this session (not the previous one's position while it loads).
      const d = p.hls?.playingDate;
      if (d && video.readyState >= 2 && !video.seeking && p.aligned) {
        video.dataset.playing = 'true';
        wallclock.textContent = `${localDay(d.getTime())} ${clock(d.getTime())}`;
        wallclock.dataset.ms = String(d.getTime());
      }
    };
    video.addEventListener('timeupdate', onTime);
    stopPlayer = () => {
      video.removeEventListener('timeupdate', onTime);
      p.destroy();
    };
  };
  const eventTimes = events.map((e) => Date.parse(e.timestamp));
  const step = (dir: 1 | -1) => {
    const shown = Number(wallclock.dataset.ms);
    let here = cursor ?? (dir === 1 ? from : to);
    if (cursor !== null && Number.isFinite(shown) && shown > cursor + 3000) here = shown;
    const t = stepEvent(eventTimes, here, dir);
    if (t === null) {
      status.replaceChildren(dir === 1 ? 'No later event.' : 'No earlier event.');
      return;
    }
    if (t < from || t >= to) {
      const w = to - from;
      go(`/app/timeline/${cid}?day=${localDay(t)}&from=${t - w / 2}&to=${t + w / 2}&at=${t}`);
      return;
    }
    void playFrom(t);
  };
  // Click plays from there (an event marker: from that event); a drag selects a range to export.
  const timeAt = (clientX: number) => {
    const r = track.getBoundingClientRect();
    return at((clientX - r.left) / r.width, from, to);
  };
  let down: { x: number; t: number } | null = null;
  let dragged = false;
  track.addEventListener('pointerdown', (ev) => {
    if (ev.button !== 0) return;
    down = { x: ev.clientX, t: timeAt(ev.clientX) };
    dragged = false;
    track.setPointerCapture?.(ev.pointerId);
  });
  track.addEventListener('pointermove', (ev) => {
    if (!down) return;
    if (Math.abs(ev.clientX - down.x) > 4) dragged = true;
    if (dragged) showSelection(down.t, timeAt(ev.clientX));
  });
  track.addEventListener('pointerup', (ev) => {
    if (!down) return;
    const start = down;
    down = null;
    if (dragged) {
      const t = timeAt(ev.clientX);
      exporter.select(Math.min(start.t, t), Math.max(start.t, t));
      return;
    }
    const marker = (ev.target as HTMLElement).closest<HTMLElement>('.event');
    void playFrom(marker ? Number(marker.dataset.ms) : start.t);
  });
  // Wheel: zoom around the pointer (gathered for a moment: one navigation per gesture).
  let wheel: { factor: number; anchor: number; timer: ReturnType<typeof setTimeout> } | null = null;
  track.addEventListener(
    'wheel',
    (ev) => {
      ev.preventDefault();
      const f = ev.deltaY < 0 ? 0.8 : 1.25;
      if (wheel) {
        wheel.factor *= f;
        return;
      }
      wheel = { factor: f, anchor: timeAt(ev.clientX), timer: setTimeout(() => undefined, 0) };
      wheel.timer = setTimeout(() => {
        const w = wheel!;
        wheel = null;
        show(zoomAround(from, to, w.anchor, w.factor));
      }, 200);
    },
    { passive: false },
  );
  track.addEventListener('keydown', (ev) => {
    const keys: Record<string, () => void> = {
      '+': () => zoom(0.5),
      '=': () => zoom(0.5),
      '-': () => zoom(2),
      ArrowLeft: () => show(panWindow(from, to, -0.25)),
      ArrowRight: () => show(panWindow(from, to, 0.25)),
      '[': () => step(-1),
      ']': () => step(1),
      Home: () => void playFrom(from),
      Enter: () => void playFrom(cursor ?? from),
    };
    const k = keys[ev.key];
    if (!k) return;
    ev.preventDefault();
    k();
  });
  const jump = params.get('at');
  if (jump && Number.isFinite(Number(jump))) void playFrom(Number(jump));
  if (params.get('focus') === 'track') track.focus();
  return () => {
    if (wheel) clearTimeout(wheel.timer);
    stopPlayer?.();
    if (session)
      void api('DELETE', `/api/v1/playback/${encodeURIComponent(session.id)}`).catch(() => undefined);
  };
}
