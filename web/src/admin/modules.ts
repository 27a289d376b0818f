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

export interface ModuleInfo {
  id: string;
  kind: 'native' | 'sidecar';
  name: string;
  version: string;
  description: string | null;
  state: string;
  mount?: string;
  base_url?: string;
  role?: string;
  nav?: Array<{ label: string; path: string }>;
  health_checked_at?: string | null;
  health_error?: string | null;
}

/** Built-in modules and sidecars (health, mount, nav); register a sidecar (its key and secret shown once). */
export async function modulesView(root: HTMLElement): Promise<null> {
  const mods = await api<ModuleInfo[]>('GET', '/api/v1/modules');
  const out = status('modules-status');
  const once = h('div', { id: 'module-once' });
  const reloadPage = () => location.assign('/app/admin/modules'); // the menu's sidecar entries change too
  const rows = mods.map((m) =>
    row(
      { 'data-module': m.id, 'data-kind': m.kind },
      m.name,
      m.kind,
      h('span', { class: `mstate mstate-${m.state}`, title: m.health_error ?? '' }, m.state),
      m.version,
      m.mount ? h('a', { href: m.mount }, m.mount) : '—',
      m.nav?.length
        ? h('span', {}, ...m.nav.map((n) => h('a', { href: n.path, class: 'navlink' }, n.label)))
        : '—',
      m.kind === 'sidecar'
        ? confirmButton(
            'Unregister',
            { 'data-unregister': m.id },
            () => api('DELETE', `/api/v1/modules/${enc(m.id)}`).then(reloadPage),
            out.error,
          )
        : null,
    ),
  );
  const id = input('mod-id', { required: true, pattern: '[A-Za-z0-9_-]{1,64}' });
  const name = input('mod-name', { required: true, maxlength: 120 });
  const base = input('mod-base', { required: true, size: 36, placeholder: 'http://127.0.0.1:9100' });
  const role = select(
    'mod-role',
    [
      ['viewer', 'viewer'],
      ['integration', 'integration'],
    ],
    'viewer',
  );
  const types = input('mod-types', { size: 30, placeholder: 'e.g. zone_*, camera_offline' });
  const navLabel = input('mod-nav-label', { maxlength: 64, placeholder: 'e.g. Reports' });
  const navPath = input('mod-nav-path', { value: '/', maxlength: 256 });
  const form = h(
    'form',
    { id: 'module-form', class: 'card', 'aria-label': 'Register a sidecar' },
    h('h2', {}, 'Register a sidecar'),
    h(
      'div',
      { class: 'fields' },
      field('Id', id, 'its mount is /m/{id}/'),
      field('Name', name),
      field('Base URL', base),
      field('Role of its key', role),
      field('Event types delivered', types, 'comma-separated; empty: none'),
      field('Menu entry label', navLabel, 'empty: no menu entry'),
      field('Menu entry path', navPath, 'under the mount'),
    ),
    h('button', { type: 'submit' }, 'Register'),
  );
  onSubmit(form, out, async () => {
    const event_types = types.value
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const made = await api<ModuleInfo & { api_key: string; webhook_secret: string }>(
      'POST',
      '/api/v1/modules',
      {
        id: id.value.trim(),
        name: name.value.trim(),
        base_url: base.value.trim(),
        role: role.value,
        ...(event_types.length ? { event_types } : {}),
        ...(navLabel.value.trim()
          ? { nav: [{ label: navLabel.value.trim(), path: navPath.value.trim() || '/' }] }
          : {}),
      },
    );
    form.reset();
    once.replaceChildren(
      shownOnce('new-module-key', `API key of "${made.name}"`, made.api_key),
      shownOnce('new-module-secret', 'Webhook signing secret', made.webhook_secret),
      h('p', {}, h('a', { href: '/app/admin/modules' }, 'Done: reload the menu')),
    );
  });
  root.append(
    h('h1', {}, 'Modules'),
    out.el,
    once,
    table('module-list', ['Name', 'Kind', 'State', 'Version', 'Mount', 'Menu entries', ''], rows),
    form,
  );
  return null;
}
