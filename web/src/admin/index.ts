import { api, can, type Me } from '../api';
import { h } from '../dom';
import { accessView } from './access';
import { camerasView } from './cameras';
import { healthView } from './health';
import { modulesView, type ModuleInfo } from './modules';
import { retentionView } from './retention';
import { webhooksView } from './webhooks';
import { zonesView } from './zones';

/**
 * The admin pages (admin role only: a viewer never sees their nav entry, and the API refuses them
 * anyway): cameras, zones, users and API keys, webhooks, sidecar modules, retention, health.
 */
const PAGES: Array<[string, string]> = [
  ['cameras', 'Cameras'],
  ['zones', 'Zones'],
  ['access', 'Users & keys'],
  ['webhooks', 'Webhooks'],
  ['modules', 'Modules'],
  ['retention', 'Retention'],
  ['health', 'Health'],
];

/** The console menu's entry for the admin pages (null for anyone who is not an admin). */
export function adminNavLink(me: Me, active: boolean): HTMLElement | null {
  if (!can(me, 'admin')) return null;
  return h(
    'a',
    { href: '/app/admin/cameras', 'data-nav': '', 'data-admin': 'admin', class: active ? 'active' : '' },
    'Admin',
  );
}

/**
 * The registered sidecars' nav entries (`/m/{id}/…`, served by the sidecar through the kernel's
 * proxy): filled in once the module list arrives, for principals who may use the proxy.
 */
export function sidecarNav(me: Me): HTMLElement | null {
  if (!can(me, 'module:proxy') || !can(me, 'system:read') || me.camera_scope !== 'all') return null;
  const span = h('span', { id: 'sidecar-nav', class: 'sidecar-nav' });
  api<ModuleInfo[]>('GET', '/api/v1/modules').then(
    (mods) => {
      for (const m of mods)
        for (const n of m.kind === 'sidecar' ? (m.nav ?? []) : [])
          span.append(h('a', { href: n.path, 'data-module': m.id, title: `${m.name} (sidecar)` }, n.label));
    },
    () => undefined, // the menu works without them
  );
  return span;
}

/** Renders `/app/admin/{page}[/{id}]`; false when the path is not an admin page. */
export async function adminView(
  root: HTMLElement,
  me: Me,
  path: string,
  go: (p: string) => void,
): Promise<(() => void) | null | false> {
  const m = /^\/app\/admin(?:\/([a-z]+)(?:\/([^/]+))?)?\/?$/.exec(path);
  if (!m) return false;
  if (!can(me, 'admin')) throw new Error('the admin pages need the admin role');
  const page = m[1] ?? 'cameras';
  const arg = m[2] ? decodeURIComponent(m[2]) : null;
  root.append(
    h(
      'nav',
      { class: 'subnav', 'aria-label': 'Admin pages' },
      ...PAGES.map(([id, label]) =>
        h(
          'a',
          {
            href: `/app/admin/${id}`,
            'data-nav': '',
            class: id === page ? 'active' : '',
            'aria-current': id === page ? 'page' : null,
          },
          label,
        ),
      ),
    ),
  );
  const body = h('section', { id: `admin-${page}`, class: 'admin' });
  root.append(body);
  switch (page) {
    case 'cameras':
      return camerasView(body, go);
    case 'zones':
      return zonesView(body, arg, go);
    case 'access':
      return accessView(body);
    case 'webhooks':
      return webhooksView(body, arg);
    case 'modules':
      return modulesView(body);
    case 'retention':
      return retentionView(body);
    case 'health':
      return healthView(body);
    default:
      throw new Error(`no such admin page: ${page}`);
  }
}
