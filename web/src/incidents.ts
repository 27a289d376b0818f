import { api, can, type Clip, type Incident, type Me, type Segment } from './api';
import { errorBox, h } from './dom';
import { bytes } from './export';
import { clock, localDay } from './time';

const when = (iso: string) => {
  const t = Date.parse(iso);
  return `${localDay(t)} ${clock(t)}`;
};

/** Incidents (evidence-locked segments grouped by incident id) and the exported clips. */
export async function incidentsView(root: HTMLElement, me: Me): Promise<() => void> {
  const [incidents, clips] = await Promise.all([
    api<Incident[]>('GET', '/api/v1/incidents'),
    can(me, 'video:export') ? api<Clip[]>('GET', '/api/v1/clips?limit=100') : Promise.resolve(null),
  ]);
  const detail = h('div', { id: 'incident-detail', 'aria-live': 'polite' });
  const open = async (id: string) => {
    try {
      const segs = await api<Segment[]>('GET', `/api/v1/incidents/${encodeURIComponent(id)}/segments`);
      detail.replaceChildren(
        h('h2', {}, `Incident ${id}`),
        h(
          'ul',
          { class: 'plain' },
          ...segs.map((s) => {
            const t = Date.parse(s.start_time);
            return h(
              'li',
              {},
              h(
                'a',
                {
                  href: `/app/timeline/${encodeURIComponent(s.camera_id)}?day=${localDay(t)}&at=${t}`,
                  'data-nav': '',
                },
                `${s.camera_id} ${when(s.start_time)} – ${clock(Date.parse(s.end_time))}`,
              ),
              ` ${bytes(s.size_bytes)}${s.evidence_locked ? '' : ' (released)'}`,
            );
          }),
        ),
      );
    } catch (err) {
      detail.replaceChildren(errorBox(err));
    }
  };
  const table = h(
    'table',
    { id: 'incidents', class: 'grid' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', {}, 'Incident'),
        h('th', {}, 'Segments'),
        h('th', {}, 'Size'),
        h('th', {}, 'From'),
        h('th', {}, 'To'),
      ),
    ),
    h(
      'tbody',
      {},
      ...incidents.map((i) =>
        h(
          'tr',
          { 'data-incident': i.incident_id },
          h('td', {}, h('button', { class: 'link', onclick: () => void open(i.incident_id) }, i.incident_id)),
          h('td', {}, String(i.segment_count)),
          h('td', {}, bytes(i.total_bytes)),
          h('td', {}, when(i.oldest_start)),
          h('td', {}, when(i.newest_end)),
        ),
      ),
    ),
  );
  root.append(
    h('h1', {}, 'Incidents'),
    incidents.length
      ? table
      : h('p', { class: 'empty' }, 'No incident yet: lock a clip as evidence from the timeline.'),
    detail,
  );
  if (clips) {
    root.append(
      h('h2', {}, 'Exported clips'),
      h(
        'table',
        { id: 'clips', class: 'grid' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            h('th', {}, 'Camera'),
            h('th', {}, 'Range'),
            h('th', {}, 'Size'),
            h('th', {}, 'SHA-256'),
            h('th', {}, 'Evidence'),
            h('th', {}, ''),
          ),
        ),
        h(
          'tbody',
          {},
          ...clips.map((c) =>
            h(
              'tr',
              { 'data-clip': c.id },
              h('td', {}, c.camera_id),
              h('td', {}, `${when(c.from)} – ${clock(Date.parse(c.to))}`),
              h('td', {}, bytes(c.size_bytes)),
              h('td', {}, h('code', { class: 'sha' }, c.sha256)),
              h('td', {}, c.evidence_locked ? 'locked' : '—'),
              h('td', {}, h('a', { href: c.url, download: `${c.id}.mp4` }, 'Download')),
            ),
          ),
        ),
      ),
    );
  }
  return () => undefined;
}
