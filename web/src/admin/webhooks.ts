import {
  api,
  confirmButton,
  enc,
  field,
  h,
  input,
  onSubmit,
  row,
  select,
  shownOnce,
  status,
  table,
} from './kit';

interface Webhook {
  id: string;
  name: string;
  url: string;
  event_types: string[];
  min_severity: string;
  enabled: boolean;
  scope_kind: 'all' | 'cameras';
  scope_cameras: string[];
  module_id: string | null;
  failing: boolean;
  consecutive_failures: number;
  last_success_at: string | null;
  last_failure_at: string | null;
}

interface Attempt {
  attempt: number;
  ok: boolean;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
  at: string;
}

interface Delivery {
  id: string;
  event_seq: number;
  event_type: string;
  status: string;
  attempts: number;
  next_attempt_at: string | null;
  last_status_code: number | null;
  last_error: string | null;
  delivered_at: string | null;
  created_at: string;
  attempt_log: Attempt[];
}

interface TestResult {
  ok: boolean;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
}

const SEVERITIES = ['info', 'warning', 'critical'];

/** Webhook subscriptions; one opened shows its delivery ledger (each delivery's attempts), with replay. */
export async function webhooksView(root: HTMLElement, openId: string | null): Promise<() => void> {
  const hooks = await api<Webhook[]>('GET', '/api/v1/webhooks');
  const out = status('webhooks-status');
  const once = h('div', { id: 'webhook-once' });
  const listBox = h('div', {});
  const ledger = h('section', { id: 'ledger', 'aria-live': 'polite' });
  let timer: ReturnType<typeof setInterval> | null = null;

  const renderList = (list: Webhook[]) => {
    const refresh = () => api<Webhook[]>('GET', '/api/v1/webhooks').then(renderList);
    listBox.replaceChildren(
      list.length
        ? table(
            'webhook-list',
            ['Name', 'URL', 'Events', 'Min severity', 'State', 'Actions'],
            list.map((w) => {
              const result = h('span', { class: 'test-result' });
              return row(
                { 'data-webhook': w.id },
                w.name + (w.module_id ? ` (sidecar ${w.module_id})` : ''),
                h('code', {}, w.url),
                w.event_types.join(', '),
                w.min_severity,
                `${w.enabled ? 'enabled' : 'disabled'}${w.failing ? ` · failing (${w.consecutive_failures})` : ''}`,
                h(
                  'span',
                  { class: 'actions' },
                  h(
                    'button',
                    { type: 'button', 'data-ledger': w.id, onclick: () => void openLedger(w) },
                    'Deliveries',
                  ),
                  h(
                    'button',
                    {
                      type: 'button',
                      onclick: () => {
                        result.textContent = 'sending…';
                        api<TestResult>('POST', `/api/v1/webhooks/${enc(w.id)}/test`).then(
                          (r) =>
                            (result.textContent = r.ok
                              ? `ok ${r.status_code} in ${r.duration_ms} ms`
                              : `failed: ${r.error ?? r.status_code}`),
                          (e: unknown) => {
                            result.textContent = '';
                            out.error(e);
                          },
                        );
                      },
                    },
                    'Send test',
                  ),
                  h(
                    'button',
                    {
                      type: 'button',
                      onclick: () =>
                        void api('PATCH', `/api/v1/webhooks/${enc(w.id)}`, { enabled: !w.enabled }).then(
                          refresh,
                          out.error,
                        ),
                    },
                    w.enabled ? 'Disable' : 'Enable',
                  ),
                  w.module_id
                    ? null
                    : confirmButton(
                        'Delete',
                        { 'data-delete-webhook': w.id },
                        () => api('DELETE', `/api/v1/webhooks/${enc(w.id)}`).then(refresh),
                        out.error,
                      ),
                  result,
                ),
              );
            }),
          )
        : h('p', { class: 'empty' }, 'No webhook yet.'),
    );
  };

  const openLedger = async (w: Webhook) => {
    history.replaceState(null, '', `/app/admin/webhooks/${enc(w.id)}`);
    const draw = async () => {
      const ds = await api<Delivery[]>('GET', `/api/v1/webhooks/${enc(w.id)}/deliveries?limit=100`);
      ledger.replaceChildren(
        h('h2', {}, `Delivery ledger: ${w.name}`),
        ds.length
          ? table(
              'delivery-list',
              ['Event', 'Type', 'Status', 'Attempts', 'Last answer', 'Delivered / next try', ''],
              ds.map((d) =>
                row(
                  { 'data-delivery': d.id, 'data-status': d.status, 'data-event-type': d.event_type },
                  `#${d.event_seq}`,
                  d.event_type,
                  h('span', { class: `dstate dstate-${d.status}` }, d.status),
                  h(
                    'details',
                    {},
                    h('summary', {}, String(d.attempts)),
                    h(
                      'ol',
                      { class: 'attempts' },
                      ...d.attempt_log.map((a) =>
                        h(
                          'li',
                          {},
                          `${a.at}: ${a.ok ? 'ok' : 'failed'} ${a.status_code ?? ''} ${a.error ?? ''} (${a.duration_ms} ms)`,
                        ),
                      ),
                    ),
                  ),
                  d.last_error ?? (d.last_status_code === null ? '—' : String(d.last_status_code)),
                  d.delivered_at ?? d.next_attempt_at ?? '—',
                  d.status === 'dead' || d.status === 'delivered'
                    ? h(
                        'button',
                        {
                          type: 'button',
                          onclick: () =>
                            void api(
                              'POST',
                              `/api/v1/webhooks/${enc(w.id)}/deliveries/${enc(d.id)}/replay`,
                            ).then(draw, out.error),
                        },
                        'Replay',
                      )
                    : null,
                ),
              ),
            )
          : h('p', { class: 'empty' }, 'No delivery yet.'),
      );
    };
    if (timer) clearInterval(timer);
    try {
      await draw();
      timer = setInterval(() => void draw().catch(out.error), 5000);
    } catch (e) {
      out.error(e);
    }
  };

  const url = input('hook-url', {
    required: true,
    type: 'url',
    size: 40,
    placeholder: 'https://example.org/heldar',
  });
  const name = input('hook-name', { maxlength: 120, placeholder: 'defaults to the URL host' });
  const types = input('hook-types', { value: '*', size: 30 });
  const sev = select(
    'hook-severity',
    SEVERITIES.map((s) => [s, s]),
    'info',
  );
  const form = h(
    'form',
    { id: 'webhook-form', class: 'card', 'aria-label': 'New webhook' },
    h('h2', {}, 'New webhook'),
    h(
      'div',
      { class: 'fields' },
      field('URL', url),
      field('Name', name),
      field('Event types', types, 'comma-separated: exact types or prefix* (default *: all)'),
      field('Minimum severity', sev),
    ),
    h('button', { type: 'submit' }, 'Create webhook'),
  );
  onSubmit(form, out, async () => {
    const event_types = types.value
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const made = await api<Webhook & { secret: string }>('POST', '/api/v1/webhooks', {
      url: url.value.trim(),
      ...(name.value.trim() ? { name: name.value.trim() } : {}),
      ...(event_types.length ? { event_types } : {}),
      min_severity: sev.value,
    });
    form.reset();
    once.replaceChildren(shownOnce('new-webhook-secret', `Signing secret of "${made.name}"`, made.secret));
    renderList(await api<Webhook[]>('GET', '/api/v1/webhooks'));
  });

  renderList(hooks);
  root.append(h('h1', {}, 'Webhooks'), out.el, once, listBox, ledger, form);
  const open = hooks.find((w) => w.id === openId);
  if (open) void openLedger(open);
  return () => {
    if (timer) clearInterval(timer);
  };
}
