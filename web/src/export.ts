import { api, can, type Clip, type Me, type Segment } from './api';
import { errorBox, h } from './dom';
import { clock, fromLocalInput, localDay, toLocalInput } from './time';

/** Human size: 1.2 MB. */
export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}

export interface ExportPanel {
  el: HTMLElement;
  /** Sets the range (from a drag on the timeline). */
  select(from: number, to: number): void;
}

/**
 * Export a range of one camera: start/end inputs (or a drag on the timeline) → a clip, with progress
 * while the kernel cuts it, its download link and SHA-256; then lock it (and its recorded segments)
 * as evidence under an incident id.
 */
export function exportPanel(
  me: Me,
  cameraId: string,
  onSelect: (from: number, to: number) => void,
): ExportPanel {
  const cid = encodeURIComponent(cameraId);
  const start = h('input', {
    id: 'export-from',
    type: 'datetime-local',
    step: 1,
    'aria-label': 'Export from',
  });
  const end = h('input', { id: 'export-to', type: 'datetime-local', step: 1, 'aria-label': 'Export to' });
  const out = h('div', { id: 'export-result', 'aria-live': 'polite' });
  const button = h('button', { id: 'export-clip', type: 'submit' }, 'Export clip');
  const range = (): { from: number; to: number } | null => {
    const f = fromLocalInput(start.value);
    const t = fromLocalInput(end.value);
    return f !== null && t !== null ? { from: f, to: t } : null;
  };
  const changed = () => {
    const r = range();
    if (r && r.to > r.from) onSelect(r.from, r.to);
  };
  start.addEventListener('change', changed);
  end.addEventListener('change', changed);

  const run = async () => {
    const r = range();
    if (!r || r.to <= r.from) {
      out.replaceChildren(errorBox(new Error('choose a start and an end after it (drag on the timeline)')));
      return;
    }
    button.disabled = true;
    const began = Date.now();
    const elapsed = h('span', { id: 'export-elapsed' }, '0 s');
    out.replaceChildren(
      h(
        'div',
        { class: 'progress', id: 'export-progress' },
        h('progress', { 'aria-label': 'Exporting' }),
        ' Cutting the clip… ',
        elapsed,
      ),
    );
    const tick = setInterval(
      () => (elapsed.textContent = `${Math.round((Date.now() - began) / 1000)} s`),
      500,
    );
    try {
      const clip = await api<Clip>('POST', `/api/v1/cameras/${cid}/clip`, {
        from: new Date(r.from).toISOString(),
        to: new Date(r.to).toISOString(),
      });
      out.replaceChildren(clipCard(me, clip));
    } catch (err) {
      out.replaceChildren(errorBox(err));
    } finally {
      clearInterval(tick);
      button.disabled = false;
    }
  };
  const form = h(
    'form',
    { class: 'export', id: 'export', 'aria-label': 'Export a clip' },
    h('h2', {}, 'Export'),
    h('label', { for: 'export-from' }, 'From'),
    start,
    h('label', { for: 'export-to' }, 'To'),
    end,
    button,
    h('span', { class: 'note' }, 'or drag across the timeline (at most 1 h)'),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void run();
  });
  const el = h('section', { class: 'panel' }, form, out);
  if (!can(me, 'video:export')) el.hidden = true;
  return {
    el,
    select(from: number, to: number) {
      start.value = toLocalInput(from);
      end.value = toLocalInput(to);
    },
  };
}

/** A clip: download, SHA-256, coverage; the evidence lock under an incident id (registry:manage). */
export function clipCard(me: Me, clip: Clip): HTMLElement {
  const from = Date.parse(clip.from);
  const to = Date.parse(clip.to);
  const name = `${clip.camera_id}_${localDay(from)}_${clock(from).replace(/:/g, '')}.mp4`;
  const card = h(
    'div',
    { class: 'clip', id: 'clip', 'data-clip': clip.id },
    h(
      'p',
      {},
      `Clip ${clock(from)}–${clock(to)}: ${Math.round(clip.covered_seconds)} s of ${Math.round(clip.requested_seconds)} s recorded, ${clip.segment_count} segment(s), ${bytes(clip.size_bytes)}${clip.gaps.length ? `, ${clip.gaps.length} hole(s)` : ''}`,
    ),
    h('a', { id: 'clip-download', href: clip.url, download: name, class: 'button' }, 'Download'),
    h('p', {}, 'SHA-256: ', h('code', { id: 'clip-sha', class: 'sha' }, clip.sha256)),
  );
  if (!can(me, 'registry:manage')) return card;
  const incident = h('input', {
    id: 'incident-id',
    'aria-label': 'Incident id',
    placeholder: 'incident id, e.g. 2026-0142',
    pattern: '[A-Za-z0-9._:\\-]{1,64}',
    required: true,
  });
  const status = h(
    'div',
    { id: 'lock-status', 'aria-live': 'polite' },
    clip.evidence_locked ? 'Held as evidence.' : '',
  );
  const lock = h('button', { id: 'lock-evidence', type: 'submit' }, 'Lock as evidence');
  const form = h('form', { class: 'lock' }, incident, lock);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    lock.disabled = true;
    void lockEvidence(clip, incident.value.trim())
      .then(
        (n) =>
          status.replaceChildren(
            `Held as evidence under incident ${incident.value.trim()}: the clip and ${n} recorded segment(s). `,
            h('a', { href: '/app/incidents', 'data-nav': '' }, 'Incidents'),
          ),
        (err: unknown) => status.replaceChildren(errorBox(err)),
      )
      .finally(() => (lock.disabled = false));
  });
  card.append(form, status);
  return card;
}

/** Locks the clip and every recorded segment of its range under `incident`; returns the segment count. */
async function lockEvidence(clip: Clip, incident: string): Promise<number> {
  await api('POST', `/api/v1/clips/${encodeURIComponent(clip.id)}/evidence-lock`);
  const q = `from=${encodeURIComponent(clip.from)}&to=${encodeURIComponent(clip.to)}&limit=1000`;
  const segs = await api<Segment[]>(
    'GET',
    `/api/v1/cameras/${encodeURIComponent(clip.camera_id)}/segments?${q}`,
  );
  for (const s of segs)
    await api('POST', `/api/v1/segments/${encodeURIComponent(s.id)}/evidence-lock`, {
      incident_id: incident,
    });
  return segs.length;
}
