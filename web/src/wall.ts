import { api, can, type Camera, type CameraHealth, type LiveView, type Me } from './api';
import { errorBox, h } from './dom';
import { playHls } from './player';
import { playWhep } from './whep';

/** The live wall: every camera in the caller's scope, each playing its live view. */
export async function wallView(root: HTMLElement, me: Me, go: (path: string) => void): Promise<() => void> {
  const stoppers: Array<() => void> = [];
  const [cameras, health] = await Promise.all([
    api<Camera[]>('GET', '/api/v1/cameras'),
    api<CameraHealth[]>('GET', '/api/v1/health/cameras').catch(() => [] as CameraHealth[]),
  ]);
  const stateOf = new Map(health.map((s) => [s.camera_id, s]));
  const grid = h('div', { class: 'wall', id: 'wall' });
  root.append(h('h1', {}, 'Live'), grid);
  if (cameras.length === 0) grid.append(h('p', { class: 'empty' }, 'No camera to show.'));
  for (const cam of cameras) {
    const st = stateOf.get(cam.id);
    const state = !cam.enabled ? 'disabled' : (st?.state ?? 'unknown');
    const video = h('video', { class: 'live', muted: true, playsinline: true, 'data-camera': cam.id });
    const placeholder = h('div', { class: 'placeholder' }, 'Starting the live view…');
    const tile = h(
      'figure',
      { class: 'tile', 'data-camera': cam.id, 'data-state': state, tabindex: 0 },
      h('div', { class: 'screen' }, video, placeholder),
      h(
        'figcaption',
        {},
        h('span', { class: 'name' }, cam.name),
        h('span', { class: `state state-${state}`, title: st?.last_error ?? '' }, state),
        h(
          'a',
          { href: `/app/timeline/${encodeURIComponent(cam.id)}`, class: 'link', 'data-nav': '' },
          'Timeline',
        ),
      ),
    );
    const enlarge = () => tile.classList.toggle('enlarged');
    tile.addEventListener('click', (ev) => {
      if ((ev.target as HTMLElement).closest('a,button')) return;
      enlarge();
    });
    tile.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' && ev.target === tile) enlarge();
    });
    if (can(me, 'registry:manage')) {
      const btn = h(
        'button',
        {
          class: 'admin',
          'data-admin': 'record-toggle',
          onclick: () => {
            btn.disabled = true;
            api<Camera>('PATCH', `/api/v1/cameras/${encodeURIComponent(cam.id)}`, {
              record_enabled: !cam.record_enabled,
            }).then(
              (c) => {
                cam.record_enabled = c.record_enabled;
                btn.textContent = c.record_enabled ? 'Pause recording' : 'Resume recording';
                btn.disabled = false;
              },
              (err: unknown) => {
                tile.append(errorBox(err));
                btn.disabled = false;
              },
            );
          },
        },
        cam.record_enabled ? 'Pause recording' : 'Resume recording',
      );
      tile.querySelector('figcaption')!.append(btn);
    }
    grid.append(tile);
    video.addEventListener('playing', () => {
      placeholder.hidden = true;
      video.dataset.playing = 'true';
    });
    if (!cam.enabled || !can(me, 'video:live')) {
      placeholder.textContent = !cam.enabled ? 'Camera disabled' : 'No live view permission';
      continue;
    }
    api<LiveView>('GET', `/api/v1/cameras/${encodeURIComponent(cam.id)}/liveview`).then(
      (lv) => {
        if (!lv.ready) placeholder.textContent = 'The stream is not ready yet…';
        const hls = (fallback?: string) => {
          if (fallback) {
            // Why WebRTC was given up, for the operator (tooltip) and the tests (data attribute).
            video.dataset.fallback = fallback;
            video.title = `WebRTC unavailable (${fallback}): playing HLS`;
          }
          video.dataset.transport = 'hls';
          const p = playHls(video, lv.hls_url, {
            live: true,
            onError: (msg) => {
              placeholder.hidden = false;
              placeholder.textContent = `Live view unavailable: ${msg}`;
            },
          });
          stoppers.push(() => p.destroy());
        };
        if (!lv.webrtc_url || typeof RTCPeerConnection === 'undefined') return hls();
        video.dataset.transport = 'webrtc';
        let gone = false;
        const rtc = playWhep(video, lv.webrtc_url, {
          onFailure: (reason) => {
            video.srcObject = null;
            if (!gone) hls(reason);
          },
        });
        stoppers.push(() => {
          gone = true;
          rtc.session.stop();
        });
        rtc.started.then(
          () => void video.play().catch(() => undefined),
          () => undefined, // onFailure has switched the tile to HLS
        );
      },
      (err: unknown) => {
        placeholder.replaceChildren(errorBox(err));
      },
    );
  }
  // Recorder states move (offline, back to recording): refreshed every 10 s while the wall is open.
  const refresh = setInterval(() => {
    api<CameraHealth[]>('GET', '/api/v1/health/cameras').then(
      (rows) => {
        for (const st of rows) {
          const badge = grid.querySelector<HTMLElement>(
            `.tile[data-camera="${CSS.escape(st.camera_id)}"] .state`,
          );
          const tile = badge?.closest<HTMLElement>('.tile');
          if (!badge || !tile || tile.dataset.state === 'disabled') continue;
          tile.dataset.state = st.state;
          badge.className = `state state-${st.state}`;
          badge.textContent = st.state;
          badge.title = st.last_error ?? '';
        }
      },
      () => undefined, // the next round tries again; the tiles keep their last state
    );
  }, 10_000);
  stoppers.push(() => clearInterval(refresh));
  void go;
  return () => stoppers.forEach((s) => s());
}
