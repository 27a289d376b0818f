import type { Camera } from '../api';
import {
  addPoint,
  formatPoints,
  normalize,
  parsePoints,
  shapeProblem,
  svgPoints,
  type Point,
  type ZoneKind,
} from './geometry';
import { api, confirmButton, enc, field, h, input, onSubmit, row, select, status, svg, table } from './kit';

export interface Zone {
  id: string;
  camera_id: string;
  name: string;
  kind: ZoneKind;
  polygon: Point[];
  severity: string;
  enabled: boolean;
}

const KINDS: Array<[ZoneKind, string]> = [
  ['line', 'line (crossing)'],
  ['region', 'region (enter / exit / dwell)'],
  ['presence', 'presence'],
];

function shape(
  points: readonly Point[],
  kind: ZoneKind,
  cls: string,
  extra: Record<string, string> = {},
): SVGElement {
  return kind === 'line'
    ? svg('polyline', { points: svgPoints(points), class: cls, ...extra })
    : svg('polygon', { points: svgPoints(points), class: cls, ...extra });
}

/**
 * Zones drawn on a snapshot of the camera: each click adds a point (a line takes two, a polygon
 * three or more); the points can also be typed. Saved through the zones API; listed and deleted.
 */
export async function zonesView(
  root: HTMLElement,
  cameraId: string | null,
  go: (p: string) => void,
): Promise<null> {
  const cams = await api<Camera[]>('GET', '/api/v1/cameras');
  if (!cams.length) {
    root.append(h('h1', {}, 'Zones'), h('p', { class: 'empty' }, 'No camera yet: add one first.'));
    return null;
  }
  const camId = cameraId ?? cams[0].id;
  if (!cameraId) history.replaceState(null, '', `/app/admin/zones/${enc(camId)}`);
  const zones = await api<Zone[]>('GET', `/api/v1/cameras/${enc(camId)}/zones`);
  const out = status('zones-status');
  const pick = select(
    'zone-camera',
    cams.map((c) => [c.id, c.name]),
    camId,
  );
  pick.addEventListener('change', () => go(`/app/admin/zones/${enc(pick.value)}`));

  // The stage: the snapshot with an SVG overlay in a 0..1000 viewBox (stretched over the picture).
  const img = h('img', {
    id: 'zone-snapshot',
    alt: `Snapshot of ${camId}`,
    src: `/api/v1/cameras/${enc(camId)}/snapshot`,
  });
  const noPicture = h(
    'p',
    { class: 'placeholder', hidden: true },
    'No snapshot (the camera does not answer): points are placed on an empty frame.',
  );
  img.addEventListener('error', () => (noPicture.hidden = false));
  img.addEventListener('load', () => {
    noPicture.hidden = true;
    // The stage takes the picture's own shape, so a point lands where it was clicked on it.
    stage.style.aspectRatio = `${img.naturalWidth} / ${img.naturalHeight}`;
  });
  const overlay = svg('svg', {
    viewBox: '0 0 1000 1000',
    preserveAspectRatio: 'none',
    class: 'overlay',
    'aria-hidden': 'true',
  });
  const stage = h(
    'div',
    { id: 'zone-stage', class: 'stage', role: 'application', 'aria-label': 'Click to place points' },
    img,
    noPicture,
    overlay,
  );

  const name = input('zone-name', { required: true, maxlength: 120 });
  const kind = select('zone-kind', KINDS, 'line');
  const typed = input('zone-points', { size: 40, placeholder: 'x,y x,y … (0..1)' });
  let points: Point[] = [];
  const existing = svg('g', {});
  for (const z of zones)
    existing.append(shape(z.polygon, z.kind, `zone zone-${z.kind}`, { 'data-zone': z.id }));
  const draft = svg('g', { id: 'draft' });
  overlay.append(existing, draft);
  const redraw = () => {
    draft.replaceChildren();
    if (points.length > 1) draft.append(shape(points, kind.value as ZoneKind, 'draft'));
    for (const [x, y] of points)
      draft.append(svg('circle', { cx: x * 1000, cy: y * 1000, r: 8, class: 'pt' }));
    typed.value = formatPoints(points);
  };
  stage.addEventListener('click', (ev) => {
    points = addPoint(
      points,
      normalize(ev.clientX, ev.clientY, stage.getBoundingClientRect()),
      kind.value as ZoneKind,
    );
    redraw();
  });
  typed.addEventListener('change', () => {
    try {
      points = parsePoints(typed.value);
      out.clear();
      redraw();
    } catch (e) {
      out.error(e);
    }
  });
  kind.addEventListener('change', redraw);
  const undo = h(
    'button',
    {
      type: 'button',
      id: 'zone-undo',
      onclick: () => {
        points = points.slice(0, -1);
        redraw();
      },
    },
    'Undo point',
  );
  const clear = h(
    'button',
    {
      type: 'button',
      id: 'zone-clear',
      onclick: () => {
        points = [];
        redraw();
      },
    },
    'Clear',
  );
  const form = h(
    'form',
    { id: 'zone-form', class: 'card', 'aria-label': 'New zone' },
    h('h2', {}, 'New zone'),
    h(
      'div',
      { class: 'fields' },
      field('Name', name),
      field('Kind', kind),
      field('Points', typed, 'click the picture, or type x,y pairs from 0 to 1 (top-left origin)'),
    ),
    h('div', { class: 'toolbar' }, h('button', { type: 'submit' }, 'Save zone'), undo, clear),
  );
  onSubmit(form, out, async () => {
    const k = kind.value as ZoneKind;
    const problem = shapeProblem(points, k);
    if (problem) throw new Error(problem);
    await api('POST', `/api/v1/cameras/${enc(camId)}/zones`, {
      name: name.value.trim(),
      kind: k,
      polygon: points,
    });
    go(`/app/admin/zones/${enc(camId)}`);
  });

  const rows = zones.map((z) =>
    row(
      { 'data-zone': z.id },
      z.name,
      z.kind,
      h('code', {}, formatPoints(z.polygon)),
      confirmButton(
        'Delete',
        { 'data-delete-zone': z.id },
        () => api('DELETE', `/api/v1/zones/${enc(z.id)}`).then(() => go(`/app/admin/zones/${enc(camId)}`)),
        out.error,
      ),
    ),
  );
  root.append(
    h('div', { class: 'toolbar' }, h('h1', {}, 'Zones'), field('Camera', pick)),
    out.el,
    h('div', { class: 'zone-editor' }, stage, form),
    zones.length
      ? table('zone-list', ['Name', 'Kind', 'Points', ''], rows)
      : h('p', { class: 'empty' }, 'No zone on this camera yet.'),
  );
  return null;
}
