import { rawQuery as raw, startTestApp, type TestApp, withClockAhead as later } from '../support/test-app';
import { ENGINE } from '../support/test-db';

const ADMIN = { username: 'root', password: 'root-password-1' };

describe(`auth flows (${ENGINE})`, () => {
  let t: TestApp;
  let admin: Record<string, string>;

  const login = (username: string, password: string) =>
    t.http().post('/api/v1/auth/login').send({ username, password });
  const me = (token: string) => t.http().get('/api/v1/auth/me').set('Authorization', `Bearer ${token}`);

  beforeAll(async () => {
    t = await startTestApp({
      env: {
        HELDAR_AUTH_ENABLED: 'true',
        HELDAR_BOOTSTRAP_ADMIN_USER: ADMIN.username,
        HELDAR_BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
        HELDAR_SESSION_IDLE_TIMEOUT_MIN: '30',
        HELDAR_LOGIN_RATE_LIMIT_PER_MIN: '0',
      },
    });
    admin = {
      Authorization: `Bearer ${(await login(ADMIN.username, ADMIN.password).expect(200)).body.token}`,
    };
  });

  afterAll(async () => {
    await t?.close();
  });

  it('logs in: a vos_ token and a strict HttpOnly cookie; the cookie alone authenticates', async () => {
    const res = await login(ADMIN.username, ADMIN.password).expect(200);
    expect(res.body.token).toMatch(/^vos_[0-9a-f]{64}$/);
    expect(res.body.user).toMatchObject({ username: 'root', role: 'admin', active: true });
    expect(res.body.user).not.toHaveProperty('password_hash');
    const cookie = String(res.headers['set-cookie']);
    expect(cookie).toMatch(/^heldar_session=vos_[0-9a-f]{64};/);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).toMatch(/Max-Age=43200/);
    const viaCookie = await t
      .http()
      .get('/api/v1/auth/me')
      .set('Cookie', `heldar_session=${res.body.token}`)
      .expect(200);
    expect(viaCookie.body).toMatchObject({ name: 'root', role: 'admin', kind: 'user', camera_scope: 'all' });
  });

  it('every login failure is the same 401', async () => {
    await t
      .http()
      .post('/api/v1/users')
      .set(admin)
      .send({ username: 'eve', password: 'eve-password' })
      .expect(201);
    const wrong = await login('eve', 'nope-nope').expect(401);
    const unknown = await login('nobody', 'nope-nope').expect(401);
    expect(wrong.body).toEqual({ error: 'invalid credentials', code: 'INVALID_CREDENTIALS' });
    expect(unknown.body).toEqual(wrong.body);
    await t.http().get('/api/v1/cameras').set('Authorization', 'Bearer vos_bogus').expect(401);
  });

  it('locks an account after 5 failures (even the right password then fails) until an admin unlocks it', async () => {
    await t
      .http()
      .post('/api/v1/users')
      .set(admin)
      .send({ username: 'mallory', password: 'mallory-pass' })
      .expect(201);
    for (let i = 0; i < 5; i++) await login('mallory', 'wrong-pass').expect(401);
    await login('mallory', 'mallory-pass').expect(401);
    const users = (await t.http().get('/api/v1/users').set(admin).expect(200)).body as Array<
      Record<string, unknown>
    >;
    const m = users.find((u) => u.username === 'mallory')!;
    expect(m.locked).toBe(true);
    const audit = (await t.http().get('/api/v1/audit?action=login_locked').set(admin).expect(200)).body
      .entries;
    expect(audit[0]).toMatchObject({ target_id: m.id, actor_name: 'mallory' });
    // The lock expires by itself after HELDAR_LOGIN_LOCKOUT_MIN.
    await later(t, 16 * 60_000, () => login('mallory', 'mallory-pass').expect(200));
    for (let i = 0; i < 5; i++) await login('mallory', 'wrong-pass').expect(401);
    await t
      .http()
      .post(`/api/v1/users/${String(m.id)}/unlock`)
      .set(admin)
      .expect(200);
    await login('mallory', 'mallory-pass').expect(200);
  });

  it('parallel wrong passwords: at most 5 are checked, the rest get the locked answer (same 401)', async () => {
    const created = await t
      .http()
      .post('/api/v1/users')
      .set(admin)
      .send({ username: 'trudy', password: 'trudy-pass-1' })
      .expect(201);
    const id = String(created.body.id);
    const answers = await Promise.all(Array.from({ length: 17 }, () => login('trudy', 'wrong-pass')));
    for (const a of answers) {
      expect(a.status).toBe(401);
      expect(a.body).toEqual({ error: 'invalid credentials', code: 'INVALID_CREDENTIALS' });
    }
    // Each attempt claims its number before the password is verified: only 5 claims got through.
    const [row] = await raw(t, `SELECT failed_login_count, locked_until FROM users WHERE id = '${id}'`);
    expect(Number(row.failed_login_count)).toBe(5);
    expect(row.locked_until).not.toBeNull();
    const audit = (await t.http().get('/api/v1/audit?action=login_locked').set(admin).expect(200)).body
      .entries as Array<{ target_id: string }>;
    expect(audit.filter((e) => e.target_id === id)).toHaveLength(1);
    expect((await login('trudy', 'trudy-pass-1').expect(401)).body.code).toBe('INVALID_CREDENTIALS');
    await t.http().post(`/api/v1/users/${id}/unlock`).set(admin).expect(200);
    await login('trudy', 'trudy-pass-1').expect(200);
  });

  it('sessions end at their TTL and after the idle timeout', async () => {
    const token = (await login('eve', 'eve-password').expect(200)).body.token as string;
    await me(token).expect(200);
    await later(t, 31 * 60_000, () => me(token).expect(401)); // idle 30 min
    const rows = await raw(t, `SELECT id FROM sessions`);
    expect(rows.map((r) => r.id)).not.toContain(token);
    const fresh = (await login('eve', 'eve-password').expect(200)).body.token as string;
    await later(t, 13 * 3_600_000, () => me(fresh).expect(401)); // TTL 12 h
  });

  it('a password change or a deactivation ends that user’s sessions; logout ends one', async () => {
    const users = (await t.http().get('/api/v1/users').set(admin).expect(200)).body as Array<{
      id: string;
      username: string;
    }>;
    const eve = users.find((u) => u.username === 'eve')!;
    const a = (await login('eve', 'eve-password').expect(200)).body.token as string;
    await t
      .http()
      .patch(`/api/v1/users/${eve.id}`)
      .set(admin)
      .send({ password: 'eve-password-2' })
      .expect(200);
    await me(a).expect(401);
    const b = (await login('eve', 'eve-password-2').expect(200)).body.token as string;
    await t.http().patch(`/api/v1/users/${eve.id}`).set(admin).send({ active: false }).expect(200);
    await me(b).expect(401);
    await login('eve', 'eve-password-2').expect(401);
    await t.http().patch(`/api/v1/users/${eve.id}`).set(admin).send({ active: true }).expect(200);
    const c = (await login('eve', 'eve-password-2').expect(200)).body.token as string;
    const out = await t.http().post('/api/v1/auth/logout').set('Authorization', `Bearer ${c}`).expect(204);
    expect(String(out.headers['set-cookie'])).toMatch(/heldar_session=;/);
    await me(c).expect(401);
  });

  it('the last active admin cannot be demoted, disabled or deleted; nobody deletes themself', async () => {
    const users = (await t.http().get('/api/v1/users').set(admin).expect(200)).body as Array<{
      id: string;
      username: string;
    }>;
    const root = users.find((u) => u.username === 'root')!;
    for (const patch of [{ role: 'manager' }, { active: false }]) {
      const res = await t.http().patch(`/api/v1/users/${root.id}`).set(admin).send(patch).expect(400);
      expect(res.body.code).toBe('LAST_ADMIN');
    }
    expect((await t.http().delete(`/api/v1/users/${root.id}`).set(admin).expect(400)).body.code).toBe(
      'SELF_DELETE',
    );
    await t
      .http()
      .post('/api/v1/users')
      .set(admin)
      .send({ username: 'root2', password: 'root2-password', role: 'admin' })
      .expect(201);
    const admin2 = {
      Authorization: `Bearer ${(await login('root2', 'root2-password').expect(200)).body.token}`,
    };
    await t.http().delete(`/api/v1/users/${root.id}`).set(admin2).expect(204);
    const root2 = (
      (await t.http().get('/api/v1/users').set(admin2).expect(200)).body as Array<{
        id: string;
        username: string;
      }>
    ).find((u) => u.username === 'root2')!;
    expect(
      (await t.http().patch(`/api/v1/users/${root2.id}`).set(admin2).send({ role: 'viewer' }).expect(400))
        .body.code,
    ).toBe('LAST_ADMIN');
    admin = admin2;
  });

  it('API keys: shown once, stored as a hash, usable by X-API-Key; expiry and revocation end them', async () => {
    expect(
      (await t.http().post('/api/v1/api-keys').set(admin).send({ name: 'ops', role: 'manager' }).expect(400))
        .body.code,
    ).toBe('CONFIRM_PRIVILEGED');
    const soon = new Date(Date.now() + 3_600_000).toISOString();
    const res = await t
      .http()
      .post('/api/v1/api-keys')
      .set(admin)
      .send({ name: 'worker', expires_at: soon })
      .expect(201);
    const key = res.body.key as string;
    expect(key).toMatch(/^vok_[0-9a-f]{64}$/);
    expect(res.body).toMatchObject({ role: 'integration', key_prefix: key.slice(0, 12), scope_kind: 'all' });
    const listed = (await t.http().get('/api/v1/api-keys').set(admin).expect(200)).body;
    expect(JSON.stringify(listed)).not.toContain(key);
    const rows = await raw(t, 'SELECT key_hash FROM api_keys');
    expect(JSON.stringify(rows)).not.toContain(key);
    expect(rows.map((r) => String(r.key_hash))).toContainEqual(expect.stringMatching(/^[0-9a-f]{64}$/));

    const me2 = await t.http().get('/api/v1/auth/me').set('X-API-Key', key).expect(200);
    expect(me2.body).toMatchObject({ kind: 'api_key', role: 'integration' });
    expect(me2.body.capabilities).toEqual(expect.arrayContaining(['camera:read', 'ai:ingest']));
    await t.http().post('/api/v1/cameras').set('X-API-Key', key).send({ name: 'x' }).expect(403); // no registry:manage
    await later(t, 2 * 3_600_000, () => t.http().get('/api/v1/cameras').set('X-API-Key', key).expect(401));
    await t.http().patch(`/api/v1/api-keys/${res.body.id}`).set(admin).send({ revoked: true }).expect(200);
    await t.http().get('/api/v1/cameras').set('X-API-Key', key).expect(401);
    const revoked = (await t.http().get('/api/v1/api-keys').set(admin).expect(200)).body.find(
      (k: { id: string }) => k.id === res.body.id,
    );
    expect(revoked.revoked_at).not.toBeNull();
  });

  it('camera-scoped keys need explicit capabilities without events:read', async () => {
    const bad = [
      { name: 's', scope_kind: 'cameras', scope_cameras: ['a'] },
      { name: 's', scope_kind: 'cameras', scope_cameras: [], capabilities: ['camera:read'] },
      {
        name: 's',
        scope_kind: 'cameras',
        scope_cameras: ['a'],
        capabilities: ['camera:read', 'events:read'],
      },
      { name: 's', capabilities: ['camera:read', 'fly'] },
      { name: 's', capabilities: [] },
    ];
    for (const body of bad) await t.http().post('/api/v1/api-keys').set(admin).send(body).expect(400);
  });

  it('passwords and session tokens are never stored in plaintext', async () => {
    const users = await raw(t, 'SELECT username, password_hash FROM users');
    for (const u of users) expect(String(u.password_hash)).toMatch(/^\$argon2id\$/);
    for (const plain of ['eve-password-2', 'mallory-pass', 'root2-password'])
      expect(JSON.stringify(users)).not.toContain(plain);
    const token = (await login('root2', 'root2-password').expect(200)).body.token as string;
    const sessions = await raw(t, 'SELECT id FROM sessions');
    expect(JSON.stringify(sessions)).not.toContain(token);
  });
});

describe('login rate limit per client address', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({
      env: {
        HELDAR_AUTH_ENABLED: 'true',
        HELDAR_BOOTSTRAP_ADMIN_USER: ADMIN.username,
        HELDAR_BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
        HELDAR_LOGIN_RATE_LIMIT_PER_MIN: '3',
      },
    });
  });

  afterAll(async () => {
    await t?.close();
  });

  it('answers 429 with Retry-After past the limit, even with the right password', async () => {
    for (let i = 0; i < 3; i++)
      await t.http().post('/api/v1/auth/login').send({ username: 'x', password: 'y' }).expect(401);
    const res = await t.http().post('/api/v1/auth/login').send(ADMIN).expect(429);
    expect(res.body.code).toBe('TOO_MANY_REQUESTS');
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
  });
});
