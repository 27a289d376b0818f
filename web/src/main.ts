import './style.css';
import { adminNavLink, adminView, sidecarNav } from './admin';
import { api, ApiError, can, type Me } from './api';
import { errorBox, h } from './dom';
import { eventsView } from './events';
import { timelineView } from './timeline';
import { wallView } from './wall';

/**
 * The operator console: sign-in, the live wall, one camera's timeline, the event feed, the admin
 * pages (web/src/admin). Routes are
 * `/app/...` paths (the kernel answers index.html for all of them), so a reload or a link works.
 */
const app = document.getElementById('app')!;
let cleanup: (() => void) | null = null;
let me: Me | null = null;

function go(path: string): void {
  history.pushState(null, '', path);
  void render();
}

function signIn(message?: string): void {
  const user = h('input', { id: 'username', name: 'username', autocomplete: 'username', required: true });
  const pass = h('input', {
    id: 'password',
    name: 'password',
    type: 'password',
    autocomplete: 'current-password',
    required: true,
  });
  const out = h('div', {}, message ? errorBox(new Error(message)) : null);
  const form = h(
    'form',
    { class: 'signin', id: 'signin' },
    h('h1', {}, 'Heldar'),
    h('label', { for: 'username' }, 'User name'),
    user,
    h('label', { for: 'password' }, 'Password'),
    pass,
    h('button', { type: 'submit' }, 'Sign in'),
    out,
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    api('POST', '/api/v1/auth/login', { username: user.value, password: pass.value }).then(
      () => {
        if (!location.pathname.startsWith('/app/')) history.replaceState(null, '', '/app/wall');
        void render();
      },
      (err: unknown) => out.replaceChildren(errorBox(err)),
    );
  });
  app.replaceChildren(form);
  user.focus();
}

function shell(who: Me): { main: HTMLElement } {
  const link = (path: string, label: string) =>
    h('a', { href: path, 'data-nav': '', class: location.pathname.startsWith(path) ? 'active' : '' }, label);
  const signOut =
    who.kind === 'system'
      ? h('span', { class: 'note', title: 'HELDAR_AUTH_ENABLED is off' }, 'auth off')
      : h(
          'button',
          {
            id: 'signout',
            onclick: () => {
              void api('POST', '/api/v1/auth/logout').finally(() => {
                me = null;
                history.pushState(null, '', '/');
                signIn();
              });
            },
          },
          'Sign out',
        );
  const nav = h(
    'nav',
    { class: 'top' },
    h('strong', { class: 'brand' }, 'Heldar'),
    link('/app/wall', 'Live'),
    link('/app/timeline', 'Timeline'),
    link('/app/events', 'Events'),
    adminNavLink(who, location.pathname.startsWith('/app/admin')),
    sidecarNav(who),
    can(who, 'admin') ? h('a', { href: '/docs', 'data-admin': 'api-docs' }, 'API (admin)') : null,
    h('span', { class: 'spacer' }),
    h('span', { id: 'whoami', class: 'whoami' }, `${who.name} · ${who.role}`),
    signOut,
  );
  const main = h('main', { id: 'view' });
  app.replaceChildren(nav, main);
  return { main };
}

async function render(): Promise<void> {
  cleanup?.();
  cleanup = null;
  if (!me) {
    try {
      me = await api<Me>('GET', '/api/v1/auth/me');
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return signIn();
      app.replaceChildren(errorBox(err));
      return;
    }
  }
  const path = location.pathname;
  const params = new URLSearchParams(location.search);
  if (path === '/' || path === '/app' || path === '/app/') {
    history.replaceState(null, '', '/app/wall');
    return render();
  }
  const { main } = shell(me);
  try {
    const m = /^\/app\/timeline(?:\/([^/]+))?$/.exec(path);
    const admin = path.startsWith('/app/admin') ? await adminView(main, me, path, go) : false;
    if (admin !== false) cleanup = admin;
    else if (path === '/app/wall') cleanup = await wallView(main, me, go);
    else if (path === '/app/events') cleanup = await eventsView(main, go);
    else if (m) {
      let id = m[1] ? decodeURIComponent(m[1]) : null;
      if (!id) {
        const cams = await api<Array<{ id: string }>>('GET', '/api/v1/cameras');
        if (!cams.length) throw new Error('no camera to show');
        id = cams[0].id;
        history.replaceState(null, '', `/app/timeline/${encodeURIComponent(id)}${location.search}`);
      }
      cleanup = await timelineView(main, me, id, params, go);
    } else main.append(errorBox(new Error(`no such page: ${path}`)));
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      me = null;
      return signIn('your session has ended: sign in again');
    }
    main.append(errorBox(err));
  }
}

document.addEventListener('click', (ev) => {
  const a = (ev.target as HTMLElement).closest('a[data-nav]');
  if (!a || ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey) return;
  ev.preventDefault();
  go(a.getAttribute('href')!);
});
window.addEventListener('popstate', () => void render());
void render();
