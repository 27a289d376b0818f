import { forecastBars, type Forecast } from './chart';
import { api, bytes, field, h, input, onSubmit, status, svg } from './kit';

interface Retention {
  max_recordings_gb: number;
  max_overridden: boolean;
  min_free_disk_gb: number;
  min_free_overridden: boolean;
  interval_s: number;
  clip_retention_hours: number;
  snapshot_retention_hours: number;
  usage: {
    recordings_bytes: number;
    protected_bytes: number;
    snapshots_bytes: number;
    disk: { total_bytes: number; free_bytes: number } | null;
  } | null;
  forecast: Forecast;
  last_sweep: { finished_at: string; duration_ms: number } | null;
}

const ROW = 34;
const LABEL_W = 170;
const BAR_W = 520;

/** "How many days will I keep": a horizontal bar per camera (days kept) with a tick at what it asks for. */
export function forecastChart(f: Forecast): SVGElement {
  const { ticks, bars, axisDays } = forecastBars(f);
  const height = bars.length * ROW + 30;
  const chart = svg('svg', {
    id: 'forecast-chart',
    class: 'chart',
    viewBox: `0 0 ${LABEL_W + BAR_W + 20} ${height}`,
    role: 'img',
    'aria-label': `Days of footage kept at today's write rate (axis 0 to ${axisDays} days)`,
  });
  ticks.forEach((t) => {
    const x = LABEL_W + (t / axisDays) * BAR_W;
    chart.append(svg('line', { x1: x, x2: x, y1: 0, y2: bars.length * ROW, class: 'gridline' }));
    chart.append(
      svg('text', { x, y: bars.length * ROW + 18, class: 'tick', 'text-anchor': 'middle' }, `${t} d`),
    );
  });
  bars.forEach((b, i) => {
    const y = i * ROW;
    const g = svg('g', {
      class: `bar bar-${b.verdict}`,
      'data-camera': b.id,
      'data-days': b.days === null ? '' : String(b.days),
    });
    g.append(svg('title', {}, `${b.label}: ${b.note}`));
    g.append(svg('text', { x: LABEL_W - 8, y: y + 21, 'text-anchor': 'end', class: 'label' }, b.label));
    g.append(
      svg('rect', {
        x: LABEL_W,
        y: y + 6,
        width: Math.max(b.length * BAR_W, b.days === null ? 0 : 2),
        height: ROW - 12,
        rx: 3,
      }),
    );
    if (b.target !== null) {
      const tx = LABEL_W + b.target * BAR_W;
      g.append(svg('line', { x1: tx, x2: tx, y1: y + 2, y2: y + ROW - 2, class: 'target' }));
    }
    const vx = LABEL_W + b.length * BAR_W + 6;
    g.append(
      svg(
        'text',
        {
          x: Math.min(vx, LABEL_W + BAR_W - 4),
          y: y + 21,
          class: 'value',
          'text-anchor': vx > LABEL_W + BAR_W - 60 ? 'end' : 'start',
        },
        b.days === null ? 'no data' : `${Math.round(b.days * 10) / 10} d`,
      ),
    );
    chart.append(g);
  });
  return chart;
}

/** Retention: limits (overridable), usage, the forecast chart and its table, a sweep on demand. */
export async function retentionView(root: HTMLElement): Promise<null> {
  const out = status('retention-status');
  const body = h('div', {});
  const draw = (r: Retention) => {
    const { bars } = forecastBars(r.forecast);
    body.replaceChildren(
      h('h2', {}, 'How many days will I keep?'),
      h(
        'p',
        { class: 'hint' },
        'At the last 24 h write rate. The bar is the days kept; the tick is the retention the camera asks for.',
      ),
      forecastChart(r.forecast),
      h(
        'ul',
        { id: 'forecast-notes', class: 'notes' },
        ...bars.map((b) =>
          h(
            'li',
            { class: `verdict-${b.verdict}`, 'data-camera': b.id },
            h('strong', {}, `${b.label}: `),
            b.note,
          ),
        ),
      ),
      h('h2', {}, 'Usage'),
      h(
        'dl',
        { class: 'facts', id: 'retention-usage' },
        h('dt', {}, 'Recordings'),
        h('dd', {}, bytes(r.usage?.recordings_bytes)),
        h('dt', {}, 'Locked as evidence'),
        h('dd', {}, bytes(r.usage?.protected_bytes)),
        h('dt', {}, 'Scheduled snapshots'),
        h('dd', {}, bytes(r.usage?.snapshots_bytes)),
        h('dt', {}, 'Disk'),
        h(
          'dd',
          {},
          r.usage?.disk
            ? `${bytes(r.usage.disk.free_bytes)} free of ${bytes(r.usage.disk.total_bytes)}`
            : '—',
        ),
        h('dt', {}, 'Write rate'),
        h('dd', {}, `${bytes(r.forecast.write_rate_bytes_per_day)} / day`),
        h('dt', {}, 'Recordings cap'),
        h(
          'dd',
          {},
          `${r.max_recordings_gb > 0 ? `${r.max_recordings_gb} GiB` : 'none'}${r.max_overridden ? ' (set here)' : ' (environment)'}`,
        ),
        h('dt', {}, 'Free disk floor'),
        h('dd', {}, `${r.min_free_disk_gb} GiB${r.min_free_overridden ? ' (set here)' : ' (environment)'}`),
        h('dt', {}, 'Last sweep'),
        h(
          'dd',
          {},
          r.last_sweep ? `${r.last_sweep.finished_at} (${r.last_sweep.duration_ms} ms)` : 'none yet',
        ),
      ),
    );
    cap.value = String(r.max_recordings_gb);
    floor.value = String(r.min_free_disk_gb);
  };
  const cap = input('ret-cap', { type: 'number', step: 'any', min: 0 });
  const floor = input('ret-floor', { type: 'number', step: 'any', min: 0 });
  const form = h(
    'form',
    { id: 'retention-form', class: 'card', 'aria-label': 'Retention limits' },
    h('h2', {}, 'Limits'),
    h(
      'div',
      { class: 'fields' },
      field('Recordings cap (GiB)', cap, 'oldest footage goes first above it'),
      field('Free disk floor (GiB)', floor),
    ),
    h(
      'div',
      { class: 'toolbar' },
      h('button', { type: 'submit' }, 'Save limits'),
      h(
        'button',
        {
          type: 'button',
          id: 'retention-clear',
          onclick: () =>
            void api<Retention>('PUT', '/api/v1/system/retention', {
              max_recordings_gb: null,
              min_free_disk_gb: null,
            }).then(draw, out.error),
        },
        "Back to the environment's",
      ),
      h(
        'button',
        {
          type: 'button',
          id: 'retention-sweep',
          onclick: () => {
            out.ok('sweeping…');
            api<Record<string, unknown>>('POST', '/api/v1/system/retention/sweep')
              .then(() => api<Retention>('GET', '/api/v1/system/retention'))
              .then((r) => {
                draw(r);
                out.ok('Sweep done.');
              }, out.error);
          },
        },
        'Sweep now',
      ),
    ),
  );
  onSubmit(form, out, async () => {
    draw(
      await api<Retention>('PUT', '/api/v1/system/retention', {
        max_recordings_gb: Number(cap.value) > 0 ? Number(cap.value) : undefined,
        min_free_disk_gb: Number(floor.value),
      }),
    );
    out.ok('Limits saved.');
  });
  draw(await api<Retention>('GET', '/api/v1/system/retention'));
  root.append(h('h1', {}, 'Retention'), out.el, body, form);
  return null;
}
