import { api, confirmButton, enc, field, h, input, onSubmit, row, select, status, table } from './kit';

export interface CameraFull {
  id: string;
  name: string;
  vendor: string;
  address: string | null;
  rtsp_port: number | null;
  channel: number;
  username: string | null;
  has_password: boolean;
  main_stream_url: string | null;
  sub_stream_url: string | null;
  record_url_masked: string | null;
  record_mode: string;
  record_enabled: boolean;
  enabled: boolean;
  retention_hours: number;
  storage_quota_bytes: number | null;
  credentials_error: string | null;
}

interface Vendor {
  id: string;
  name: string;
  default_port: number;
  main_url: string | null;
  sub_url: string | null;
  uses_channel: boolean;
  notes?: string;
}

interface TestResult {
  reachable: boolean;
  codec?: string | null;
  width?: number | null;
  height?: number | null;
  fps?: number | null;
  error?: string;
  url: string;
}

const MODES: Array<[string, string]> = [
  ['continuous', 'continuous'],
  ['scheduled', 'scheduled'],
  ['event', 'event'],
  ['scheduled_event', 'scheduled + event'],
];

/** What "test connection" found, in one line. */
export function describeTest(r: TestResult): string {
  if (!r.reachable) return `unreachable: ${r.error ?? 'no answer'}`;
  const size = r.width && r.height ? `${r.width}×${r.height}` : 'size unknown';
  const fps = r.fps ? ` @ ${Math.round(r.fps * 10) / 10} fps` : '';
  return `${r.codec ?? 'codec unknown'} ${size}${fps}`;
}

/** Cameras: the list, add (with vendor templates), edit, delete and "test connection". */
export async function camerasView(root: HTMLElement, go: (p: string) => void): Promise<null> {
  const [cams, vendors] = await Promise.all([
    api<CameraFull[]>('GET', '/api/v1/cameras'),
    api<Vendor[]>('GET', '/api/v1/camera-vendors'),
  ]);
  const out = status('cameras-status');
  const reload = () => go('/app/admin/cameras');
  const rows = cams.map((c) => {
    const result = h('span', { class: 'test-result', id: `test-${c.id}`, 'aria-live': 'polite' });
    const test = h('button', { type: 'button', 'data-test': c.id }, 'Test connection');
    test.addEventListener('click', () => {
      test.disabled = true;
      result.textContent = 'probing…';
      api<TestResult>('POST', `/api/v1/cameras/${enc(c.id)}/test`).then(
        (r) => {
          result.textContent = describeTest(r);
          result.className = `test-result ${r.reachable ? 'ok' : 'bad'}`;
          if (r.reachable)
            Object.assign(result.dataset, {
              codec: r.codec ?? '',
              width: String(r.width ?? ''),
              height: String(r.height ?? ''),
            });
          test.disabled = false;
        },
        (e: unknown) => {
          result.textContent = '';
          out.error(e);
          test.disabled = false;
        },
      );
    });
    const edit = h('button', { type: 'button', 'data-edit': c.id }, 'Edit');
    edit.addEventListener('click', () => {
      form.replaceWith((form = cameraForm(vendors, c, out, reload)));
      form.querySelector<HTMLInputElement>('input[name=name]')?.focus();
    });
    return row(
      { 'data-camera': c.id },
      h('strong', {}, c.name),
      c.id,
      c.vendor,
      h('code', {}, c.record_url_masked ?? '—'),
      `${c.enabled ? (c.record_enabled ? c.record_mode : 'not recording') : 'disabled'}${c.credentials_error ? ' · credentials unreadable' : ''}`,
      h(
        'span',
        { class: 'actions' },
        test,
        edit,
        h('a', { href: `/app/admin/zones/${enc(c.id)}`, 'data-nav': '' }, 'Zones'),
        confirmButton(
          'Delete',
          { 'data-delete': c.id },
          () => api('DELETE', `/api/v1/cameras/${enc(c.id)}`).then(reload),
          out.error,
        ),
      ),
      result,
    );
  });
  let form = cameraForm(vendors, null, out, reload);
  root.append(
    h('h1', {}, 'Cameras'),
    out.el,
    cams.length
      ? table('camera-list', ['Name', 'Id', 'Vendor', 'Record URL', 'Recording', 'Actions', 'Test'], rows)
      : h('p', { class: 'empty' }, 'No camera yet: add one below.'),
    form,
  );
  return null;
}

/** The add/edit form. A vendor's template builds the stream URLs from address, port, channel and credentials. */
function cameraForm(
  vendors: Vendor[],
  cam: CameraFull | null,
  out: ReturnType<typeof status>,
  done: () => void,
): HTMLFormElement {
  const v = (x: string | number | null | undefined) =>
    x === null || x === undefined ? undefined : String(x);
  const id = input('cam-id', {
    value: v(cam?.id),
    disabled: !!cam,
    pattern: '[A-Za-z0-9_-]+',
    maxlength: 64,
  });
  const name = input('cam-name', { value: v(cam?.name), required: true, maxlength: 128 });
  const vendor = select(
    'cam-vendor',
    vendors.map((x) => [x.id, x.name]),
    cam?.vendor ?? 'generic',
  );
  const address = input('cam-address', { value: v(cam?.address), placeholder: '192.168.1.64' });
  const port = input('cam-port', { type: 'number', min: 1, max: 65535, value: v(cam?.rtsp_port) });
  const channel = input('cam-channel', { type: 'number', min: 1, max: 512, value: v(cam?.channel ?? 1) });
  const user = input('cam-user', { value: v(cam?.username), autocomplete: 'off' });
  const pass = input('cam-pass', {
    type: 'password',
    autocomplete: 'new-password',
    placeholder: cam?.has_password ? '(unchanged)' : '',
  });
  const main = input('cam-main', { value: v(cam?.main_stream_url), placeholder: 'rtsp://…', size: 48 });
  const sub = input('cam-sub', {
    value: v(cam?.sub_stream_url),
    placeholder: 'rtsp://… (optional)',
    size: 48,
  });
  const mode = select('cam-mode', MODES, cam?.record_mode ?? 'continuous');
  const shape = h('p', { class: 'hint', id: 'vendor-shape' });
  const showShape = () => {
    const t = vendors.find((x) => x.id === vendor.value);
    shape.replaceChildren(
      t?.main_url
        ? h('span', {}, 'Main: ', h('code', {}, t.main_url))
        : t?.notes
          ? ''
          : 'No template: give the stream URL.',
      t?.sub_url ? h('span', {}, ' · Sub: ', h('code', {}, t.sub_url)) : '',
      t?.notes ? h('span', {}, `${t.main_url ? ' · ' : ''}${t.notes}`) : '',
    );
    port.placeholder = t ? String(t.default_port) : '';
  };
  vendor.addEventListener('change', showShape);
  showShape();
  const form = h(
    'form',
    { id: 'camera-form', class: 'card', 'aria-label': cam ? `Edit camera ${cam.id}` : 'Add a camera' },
    h('h2', {}, cam ? `Edit ${cam.name}` : 'Add a camera'),
    h(
      'div',
      { class: 'fields' },
      field('Name', name),
      field('Id (optional)', id, 'letters, digits, - and _; generated when empty'),
      field('Vendor template', vendor),
      field('Address', address, 'host or IP; the vendor template builds the URL'),
      field('RTSP port', port),
      field('Channel', channel),
      field('User name', user),
      field(
        'Password',
        pass,
        cam?.has_password ? 'leave empty to keep the stored one' : 'stored encrypted, never shown again',
      ),
      field('Main stream URL', main, 'overrides the template (rtsp, rtsps, http, https)'),
      field('Sub stream URL', sub),
      field('Recording mode', mode),
    ),
    shape,
    h(
      'div',
      { class: 'toolbar' },
      h('button', { type: 'submit' }, cam ? 'Save changes' : 'Add camera'),
      cam ? h('button', { type: 'button', onclick: done }, 'Cancel') : null,
    ),
  );
  onSubmit(form, out, async () => {
    const num = (el: HTMLInputElement) => (el.value.trim() ? Number(el.value) : null);
    const str = (el: HTMLInputElement) => (el.value.trim() ? el.value.trim() : null);
    const body: Record<string, unknown> = {
      name: name.value.trim(),
      vendor: vendor.value,
      address: str(address),
      rtsp_port: num(port),
      channel: num(channel) ?? 1,
      username: str(user),
      main_stream_url: str(main),
      sub_stream_url: str(sub),
      record_mode: mode.value,
    };
    if (pass.value) body.password = pass.value;
    if (cam) {
      await api('PATCH', `/api/v1/cameras/${enc(cam.id)}`, body);
    } else {
      if (id.value.trim()) body.id = id.value.trim();
      await api('POST', '/api/v1/cameras', body);
    }
    done();
  });
  return form;
}
