import type { Camera } from '../api';
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

interface User {
  id: string;
  username: string;
  role: string;
  display_name: string | null;
  active: boolean;
  locked: boolean;
}

interface ApiKey {
  id: string;
  name: string;
  key_prefix: string;
  role: string;
  capabilities: string[];
  explicit_capabilities: boolean;
  scope_kind: 'all' | 'cameras';
  scope_cameras: string[];
  active: boolean;
  expires_at: string | null;
  revoked_at: string | null;
  last_used_at: string | null;
  created_at: string;
}

const ROLES = ['admin', 'manager', 'guard', 'viewer', 'integration'];
/** What a camera-scoped key may hold (never admin or events:read: see the API keys docs). */
const SCOPED_CAPS = [
  'camera:read',
  'video:live',
  'video:playback',
  'video:export',
  'ai:tasks',
  'ai:frames',
  'ai:ingest',
  'system:read',
];

/** Users and API keys. A new key's secret is shown once, right after it is minted, and never again. */
export async function accessView(root: HTMLElement): Promise<null> {
  const [users, keys, cams] = await Promise.all([
    api<User[]>('GET', '/api/v1/users'),
    api<ApiKey[]>('GET', '/api/v1/api-keys'),
    api<Camera[]>('GET', '/api/v1/cameras'),
  ]);
  const userOut = status('users-status');
  const keyOut = status('keys-status');
  const usersBox = h('div', {});
  const keysBox = h('div', {});
  const secretBox = h('div', { id: 'key-once' });

  const renderUsers = (list: User[]) => {
    const refresh = () => api<User[]>('GET', '/api/v1/users').then(renderUsers);
    usersBox.replaceChildren(
      table(
        'user-list',
        ['User', 'Role', 'State', 'Actions'],
        list.map((u) =>
          row(
            { 'data-user': u.username },
            u.display_name ? `${u.username} (${u.display_name})` : u.username,
            u.role,
            `${u.active ? 'active' : 'deactivated'}${u.locked ? ' · locked' : ''}`,
            h(
              'span',
              { class: 'actions' },
              u.locked
                ? h(
                    'button',
                    {
                      type: 'button',
                      onclick: () =>
                        void api('POST', `/api/v1/users/${enc(u.id)}/unlock`).then(refresh, userOut.error),
                    },
                    'Unlock',
                  )
                : null,
              h(
                'button',
                {
                  type: 'button',
                  onclick: () =>
                    void api('PATCH', `/api/v1/users/${enc(u.id)}`, { active: !u.active }).then(
                      refresh,
                      userOut.error,
                    ),
                },
                u.active ? 'Deactivate' : 'Activate',
              ),
              confirmButton(
                'Delete',
                { 'data-delete-user': u.username },
                () => api('DELETE', `/api/v1/users/${enc(u.id)}`).then(refresh),
                userOut.error,
              ),
            ),
          ),
        ),
      ),
    );
  };
  const renderKeys = (list: ApiKey[]) => {
    const refresh = () => api<ApiKey[]>('GET', '/api/v1/api-keys').then(renderKeys);
    keysBox.replaceChildren(
      list.length
        ? table(
            'key-list',
            ['Name', 'Prefix', 'Role', 'Cameras', 'Capabilities', 'Last used', 'State', ''],
            list.map((k) =>
              row(
                { 'data-key': k.name },
                k.name,
                h('code', {}, `${k.key_prefix}…`),
                k.role,
                k.scope_kind === 'all' ? 'all' : k.scope_cameras.join(', '),
                k.explicit_capabilities ? k.capabilities.join(', ') : `(role) ${k.capabilities.length}`,
                k.last_used_at ?? 'never',
                k.revoked_at
                  ? 'revoked'
                  : k.expires_at && Date.parse(k.expires_at) < Date.now()
                    ? 'expired'
                    : 'active',
                k.revoked_at
                  ? null
                  : confirmButton(
                      'Revoke',
                      { 'data-revoke': k.name },
                      () => api('PATCH', `/api/v1/api-keys/${enc(k.id)}`, { revoked: true }).then(refresh),
                      keyOut.error,
                    ),
              ),
            ),
          )
        : h('p', { class: 'empty' }, 'No API key yet.'),
    );
  };
  renderUsers(users);
  renderKeys(keys);

  // New user.
  const uname = input('user-name', { required: true, autocomplete: 'off', pattern: '[A-Za-z0-9._@-]{1,64}' });
  const upass = input('user-pass', {
    type: 'password',
    required: true,
    minlength: 8,
    autocomplete: 'new-password',
  });
  const urole = select(
    'user-role',
    ROLES.map((r) => [r, r]),
    'viewer',
  );
  const udisp = input('user-display', { maxlength: 128 });
  const userForm = h(
    'form',
    { id: 'user-form', class: 'card', 'aria-label': 'New user' },
    h('h2', {}, 'New user'),
    h(
      'div',
      { class: 'fields' },
      field('User name', uname),
      field('Password', upass, 'at least 8 characters'),
      field('Role', urole),
      field('Display name', udisp),
    ),
    h('button', { type: 'submit' }, 'Create user'),
  );
  onSubmit(userForm, userOut, async () => {
    await api('POST', '/api/v1/users', {
      username: uname.value.trim(),
      password: upass.value,
      role: urole.value,
      ...(udisp.value.trim() ? { display_name: udisp.value.trim() } : {}),
    });
    userForm.reset();
    userOut.ok('User created.');
    renderUsers(await api<User[]>('GET', '/api/v1/users'));
  });

  // New API key: a role (all cameras), or an explicit grant limited to some cameras.
  const kname = input('key-name', { required: true, maxlength: 128 });
  const krole = select(
    'key-role',
    ROLES.map((r) => [r, r]),
    'integration',
  );
  const kexp = input('key-expires', { type: 'datetime-local' });
  const camBoxes = cams.map((c) =>
    h('input', { type: 'checkbox', id: `key-cam-${c.id}`, value: c.id, name: 'key-cam' }),
  );
  const capBoxes = SCOPED_CAPS.map((c) =>
    h('input', { type: 'checkbox', id: `key-cap-${c}`, value: c, name: 'key-cap' }),
  );
  const checks = (boxes: HTMLInputElement[], labels: string[], legend: string, id: string) =>
    h(
      'fieldset',
      { id },
      h('legend', {}, legend),
      ...boxes.map((b, i) => h('label', { class: 'check', for: b.id }, b, ` ${labels[i]}`)),
    );
  const keyForm = h(
    'form',
    { id: 'key-form', class: 'card', 'aria-label': 'New API key' },
    h('h2', {}, 'New API key'),
    h(
      'div',
      { class: 'fields' },
      field('Name', kname),
      field('Role', krole, 'its capabilities when none are ticked below'),
      field('Expires (optional)', kexp),
    ),
    checks(
      camBoxes,
      cams.map((c) => c.name),
      'Only these cameras (none ticked: all cameras)',
      'key-cameras',
    ),
    checks(capBoxes, SCOPED_CAPS, 'Capabilities (required for a camera-scoped key)', 'key-caps'),
    h('button', { type: 'submit' }, 'Create key'),
  );
  onSubmit(keyForm, keyOut, async () => {
    const scope = camBoxes.filter((b) => b.checked).map((b) => b.value);
    const caps = capBoxes.filter((b) => b.checked).map((b) => b.value);
    const body: Record<string, unknown> = { name: kname.value.trim(), role: krole.value };
    if (caps.length) body.capabilities = caps;
    if (scope.length) Object.assign(body, { scope_kind: 'cameras', scope_cameras: scope });
    if (kexp.value) body.expires_at = new Date(kexp.value).toISOString();
    const made = await api<ApiKey & { key: string }>('POST', '/api/v1/api-keys', body);
    keyForm.reset();
    // Only here, in this page's memory: a reload or another page shows the prefix alone.
    secretBox.replaceChildren(shownOnce('new-key-secret', `API key "${made.name}"`, made.key));
    renderKeys(await api<ApiKey[]>('GET', '/api/v1/api-keys'));
  });

  root.append(
    h('h1', {}, 'Users and API keys'),
    h('h2', {}, 'Users'),
    userOut.el,
    usersBox,
    userForm,
    h('h2', {}, 'API keys'),
    keyOut.el,
    secretBox,
    keysBox,
    keyForm,
  );
  return null;
}
