import type { Camera, CameraHealth } from '../api';
import { api, bytes, h, row, table } from './kit';

interface System {
  name: string;
  version: string;
  started_at: string;
  uptime_seconds: number;
  recorder_enabled: boolean;
  cameras_total: number;
  cameras_recording: number;
  segments_total: number;
  storage: {
    disk: { total_bytes: number; free_bytes: number; used_percent: number } | null;
    recordings_bytes: number;
    write_rate_bytes_per_day: number | null;
    projected_days_remaining: number | null;
  };
}

interface Health extends CameraHealth {
  last_segment_at: string | null;
  reconnect_count: number;
  fps_observed: number | null;
  bitrate_kbps: number | null;
}

const uptime = (s: number) =>
  `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h ${Math.floor((s % 3600) / 60)} min`;

/** System health: version and uptime, readiness, disk, and each camera's recorder. Refreshed every 10 s. */
export async function healthView(root: HTMLElement): Promise<() => void> {
  const body = h('div', { id: 'health' });
  root.append(h('h1', {}, 'System health'), body);
  const draw = async () => {
    const [sys, cams, health, ready] = await Promise.all([
      api<System>('GET', '/api/v1/system'),
      api<Camera[]>('GET', '/api/v1/cameras'),
      api<Health[]>('GET', '/api/v1/health/cameras'),
      fetch('/readyz').then(
        async (r) => ({ ok: r.ok, body: (await r.json().catch(() => ({}))) as { reason?: string } }),
        () => ({ ok: false, body: { reason: 'unreachable' } }),
      ),
    ]);
    const byId = new Map(health.map((x) => [x.camera_id, x]));
    const disk = sys.storage.disk;
    body.replaceChildren(
      h(
        'dl',
        { class: 'facts', id: 'system-facts' },
        h('dt', {}, 'Version'),
        h('dd', { id: 'version' }, `${sys.name} ${sys.version}`),
        h('dt', {}, 'Up'),
        h('dd', {}, `${uptime(sys.uptime_seconds)} (since ${sys.started_at})`),
        h('dt', {}, 'Ready'),
        h(
          'dd',
          { id: 'ready', class: ready.ok ? 'ok' : 'bad' },
          ready.ok ? 'yes' : `no: ${ready.body.reason ?? 'unknown'}`,
        ),
        h('dt', {}, 'Recorder'),
        h(
          'dd',
          {},
          sys.recorder_enabled
            ? `${sys.cameras_recording} of ${sys.cameras_total} cameras recording`
            : 'off (HELDAR_RECORDER_ENABLED)',
        ),
        h('dt', {}, 'Disk'),
        h(
          'dd',
          { id: 'disk' },
          disk
            ? `${disk.used_percent} % used, ${bytes(disk.free_bytes)} free of ${bytes(disk.total_bytes)}`
            : '—',
        ),
        h('dt', {}, 'Recordings'),
        h('dd', {}, `${bytes(sys.storage.recordings_bytes)} in ${sys.segments_total} segments`),
        h('dt', {}, 'Runway'),
        h(
          'dd',
          {},
          sys.storage.projected_days_remaining === null
            ? '—'
            : `${sys.storage.projected_days_remaining} days of free disk at ${bytes(sys.storage.write_rate_bytes_per_day)} / day`,
        ),
      ),
      table(
        'camera-health',
        ['Camera', 'State', 'Last segment', 'Reconnects', 'FPS', 'kbit/s', 'Last error'],
        cams.map((c) => {
          const s = byId.get(c.id);
          const state = !c.enabled ? 'disabled' : (s?.state ?? 'unknown');
          return row(
            { 'data-camera': c.id },
            c.name,
            h('span', { class: `state state-${state}` }, state),
            s?.last_segment_at ?? '—',
            String(s?.reconnect_count ?? 0),
            s?.fps_observed === null || s?.fps_observed === undefined ? '—' : String(s.fps_observed),
            s?.bitrate_kbps === null || s?.bitrate_kbps === undefined ? '—' : String(s.bitrate_kbps),
            s?.last_error ?? '',
          );
        }),
      ),
    );
  };
  await draw();
  const timer = setInterval(() => void draw().catch(() => undefined), 10_000);
  return () => clearInterval(timer);
}
