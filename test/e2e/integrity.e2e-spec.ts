import { createCipheriv, randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { legacyAuditHash } from '../../src/audit/audit-chain';
import { AuditLogEntity } from '../../src/audit/entities/audit-log.entity';
import { cameraAad } from '../../src/cameras/camera.mapper';
import { CamerasService } from '../../src/cameras/cameras.service';
import { loadOrCreateSecretKey, SecretBox } from '../../src/common/secret-box';
import type { JsonObject } from '../../src/database/columns';
import { openDataSource } from '../../src/database/data-source';
import { ENTITIES } from '../../src/app.entities';
import { SettingsService } from '../../src/settings/settings.service';
import { webhookSecretAad } from '../../src/webhooks/webhook-signing';
import { startTestApp, type TestApp } from '../support/test-app';
import { createTestStore, ENGINE } from '../support/test-db';

/** SQL straight at the store through the app's DataSource (`?` placeholders on both engines). */
async function sql(
  ds: DataSource,
  text: string,
  params: unknown[] = [],
): Promise<Array<Record<string, unknown>>> {
  let i = 0;
  const q = ds.options.type === 'postgres' ? text.replace(/\?/g, () => `$${++i}`) : text;
  const rows: Array<Record<string, unknown>> = await ds.query(q, params);
  return rows;
}

/** What an attacker with the database does first: drop the append-only trigger. */
async function dropAppendOnly(ds: DataSource): Promise<void> {
  await ds.query(
    ds.options.type === 'better-sqlite3'
      ? 'DROP TRIGGER audit_log_append_only'
      : 'DROP TRIGGER audit_log_append_only ON audit_log',
  );
}

const rowsOf = async (ds: DataSource): Promise<AuditLogEntity[]> =>
  ds.getRepository(AuditLogEntity).find({ order: { seq: 'ASC' } });

/** Re-hash rows from `fromSeq` on with plain SHA-256 (all an attacker without the key can do). */
async function rechainPlain(ds: DataSource, fromSeq: number): Promise<void> {
  const rows = await rowsOf(ds);
  let prev = rows.find((r, i) => rows[i + 1]?.seq === fromSeq)?.hash ?? '';
  for (const row of rows.filter((r) => r.seq >= fromSeq)) {
    const hash = legacyAuditHash(prev, row);
    await sql(ds, 'UPDATE audit_log SET prev_hash = ?, hash = ? WHERE seq = ?', [prev, hash, row.seq]);
    prev = hash;
  }
}

/** A value sealed the way v1 did (no associated data). */
function sealV1(key: Buffer, plaintext: string): string {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return 'enc:v1:' + Buffer.concat([nonce, body, cipher.getAuthTag()]).toString('base64');
}

async function someAuditRows(t: TestApp, n: number, prefix = 'c'): Promise<void> {
  for (let i = 0; i < n; i++) {
    await t
      .http()
      .post('/api/v1/sites')
      .send({ id: `${prefix}${i}`, name: `Site ${i}` })
      .expect(201);
  }
}

describe(`audit chain: keyed, checkpoints chained, head pinned (${ENGINE})`, () => {
  let t: TestApp;
  afterEach(async () => {
    await t?.close();
  });

  it('dropping the newest rows leaves a valid-looking chain, but not the pinned head', async () => {
    t = await startTestApp();
    await someAuditRows(t, 4);
    const pinned = (await t.http().get('/api/v1/audit/verify').expect(200)).body;
    expect(pinned).toMatchObject({ ok: true, problem: null, head: { seq: expect.any(Number) } });
    expect(pinned.head.hash).toMatch(/^[0-9a-f]{64}$/);
    const { seq, hash } = pinned.head as { seq: number; hash: string };
    const q = `/api/v1/audit/verify?expect_seq=${seq}&expect_head=${hash}`;
    expect((await t.http().get(q).expect(200)).body).toMatchObject({
      ok: true,
      expected_head: { seq, hash, status: 'present' },
    });
    await someAuditRows(t, 1, 'd');
    expect((await t.http().get(q).expect(200)).body.expected_head.status).toBe('present');

    // Someone with the database removes the newest rows (DELETE is not refused: retention needs it).
    const ds = t.app.get(DataSource);
    await sql(ds, 'DELETE FROM audit_log WHERE seq >= ?', [seq - 1]);
    const plain = (await t.http().get('/api/v1/audit/verify').expect(200)).body;
    expect(plain.ok).toBe(true); // nothing links to a removed tail row: only the pin can tell
    expect(plain.head.seq).toBeLessThan(seq);
    const res = await t.http().get(q).expect(200);
    expect(res.body).toMatchObject({
      ok: false,
      expected_head: { seq, hash, status: 'missing' },
      problem: expect.stringMatching(/pinned head \(seq \d+\) is not in the chain/),
    });

    // Bad pins are a 400 in the envelope.
    const bad = await t.http().get('/api/v1/audit/verify?expect_head=nothex').expect(400);
    expect(bad.body).toMatchObject({ code: 'VALIDATION_FAILED' });
    await t.http().get('/api/v1/audit/verify?expect_seq=3').expect(400);
  });

  it('a row edited and the chain re-hashed with plain SHA-256 (no key): verify names the row', async () => {
    t = await startTestApp();
    await someAuditRows(t, 5);
    const ds = t.app.get(DataSource);
    const rows = await rowsOf(ds);
    const victim = rows[rows.length - 3];
    await dropAppendOnly(ds);
    await sql(ds, 'UPDATE audit_log SET detail = ? WHERE seq = ?', ['{"name":"forged"}', victim.seq]);
    await rechainPlain(ds, victim.seq); // every link fits again, with plain SHA-256
    const res = (await t.http().get('/api/v1/audit/verify').expect(200)).body;
    expect(res).toMatchObject({ ok: false, first_broken_id: victim.id });
    expect(res.problem).toMatch(new RegExp(`seq ${victim.seq} was altered`));
  });

  it('a forged retention checkpoint (oldest rows dropped) breaks verify, in the table or in the chain', async () => {
    t = await startTestApp();
    await someAuditRows(t, 6);
    const ds = t.app.get(DataSource);
    const rows = await rowsOf(ds);
    const dropped = rows.slice(0, 3);
    const last = dropped[dropped.length - 1];
    await sql(ds, 'DELETE FROM audit_log WHERE seq <= ?', [last.seq]);
    // The old place of checkpoints: a plain table row, which the chain no longer trusts.
    await sql(
      ds,
      'INSERT INTO audit_checkpoints (upto_seq, anchor_hash, pruned_before, created_at) VALUES (?, ?, ?, ?)',
      [last.seq, last.hash, new Date().toISOString(), new Date().toISOString()],
    );
    let res = (await t.http().get('/api/v1/audit/verify').expect(200)).body;
    expect(res).toMatchObject({ ok: false, checked: 0, first_broken_id: rows[3].id });

    // A checkpoint row appended to the chain without the key does not hold either.
    const tail = (await rowsOf(ds)).at(-1)!;
    const forged = {
      id: 'aud_forgedcheckpoint',
      actorKind: 'system',
      actorId: 'system',
      actorName: 'system',
      role: 'admin',
      action: 'audit_checkpoint',
      targetType: 'audit_log',
      targetId: null,
      detail: {
        upto_seq: last.seq,
        anchor_hash: last.hash,
        pruned_before: new Date().toISOString(),
      } as JsonObject,
      subjectCameraId: null,
      requestId: null,
      createdAt: new Date().toISOString(),
    };
    await ds
      .getRepository(AuditLogEntity)
      .insert({ ...forged, prevHash: tail.hash, hash: legacyAuditHash(tail.hash, forged) });
    res = (await t.http().get('/api/v1/audit/verify').expect(200)).body;
    expect(res).toMatchObject({ ok: false, first_broken_id: 'aud_forgedcheckpoint' });
    expect(res.problem).toMatch(/checkpoint row .* is not genuine/);
  });

  it('an audit_head event goes out every HELDAR_AUDIT_HEAD_EVERY rows, and its head verifies', async () => {
    t = await startTestApp({ env: { HELDAR_AUDIT_HEAD_EVERY: '3' } });
    await someAuditRows(t, 7);
    const heads = (await t.http().get('/api/v1/events?event_type=audit_head&limit=10').expect(200))
      .body as Array<{
      payload: { seq: number; hash: string };
    }>;
    expect(heads.length).toBe(2);
    const seqs = heads.map((e) => e.payload.seq).sort((a, b) => a - b);
    expect(seqs.map((s) => s % 3)).toEqual([0, 0]);
    const rows = await rowsOf(t.app.get(DataSource));
    for (const h of heads) {
      expect(rows.find((r) => r.seq === h.payload.seq)?.hash).toBe(h.payload.hash);
      const res = await t
        .http()
        .get(`/api/v1/audit/verify?expect_seq=${h.payload.seq}&expect_head=${h.payload.hash}`)
        .expect(200);
      expect(res.body).toMatchObject({ ok: true, expected_head: { status: 'present' } });
    }
  });

  it('an install upgraded from the plain SHA-256 chain still verifies; its legacy rows are still checked', async () => {
    const store = await createTestStore();
    // The store as an older version left it: plain SHA-256 rows, three removed by a legacy checkpoint.
    const old = await openDataSource(store.config, ENTITIES);
    let prev = '';
    const legacy: AuditLogEntity[] = [];
    for (let i = 1; i <= 6; i++) {
      const content = {
        id: `aud_legacy${i}`,
        actorKind: 'system',
        actorId: 'system',
        actorName: 'system',
        role: 'admin',
        action: 'create_site',
        targetType: 'site',
        targetId: `old${i}`,
        detail: { i } as JsonObject,
        subjectCameraId: null,
        requestId: null,
        createdAt: new Date(Date.now() - (10 - i) * 60_000).toISOString(), // recent: not due for retention
      };
      const hash = legacyAuditHash(prev, content);
      await old.getRepository(AuditLogEntity).insert({ ...content, prevHash: prev, hash });
      legacy.push(await old.getRepository(AuditLogEntity).findOneByOrFail({ id: content.id }));
      prev = hash;
    }
    await sql(
      old,
      'INSERT INTO audit_checkpoints (upto_seq, anchor_hash, pruned_before, created_at) VALUES (?, ?, ?, ?)',
      [legacy[2].seq, legacy[2].hash, legacy[3].createdAt, legacy[3].createdAt],
    );
    await sql(old, 'DELETE FROM audit_log WHERE seq <= ?', [legacy[2].seq]);
    await old.destroy();

    t = await startTestApp({ store });
    await someAuditRows(t, 2);
    const res = (await t.http().get('/api/v1/audit/verify').expect(200)).body;
    expect(res).toMatchObject({ ok: true, problem: null, checked: 3 + 1 + 2 }); // legacy, cutover, new
    const ds = t.app.get(DataSource);
    const [cutover] = await sql(
      ds,
      "SELECT seq, prev_hash FROM audit_log WHERE action = 'audit_chain_keyed'",
    );
    expect(cutover.prev_hash).toBe(legacy[5].hash);

    // A restart does not cut over again.
    await t.stopServer();
    t = await startTestApp({ store });
    expect(
      await sql(t.app.get(DataSource), "SELECT seq FROM audit_log WHERE action = 'audit_chain_keyed'"),
    ).toHaveLength(1);
    expect((await t.http().get('/api/v1/audit/verify').expect(200)).body).toMatchObject({ ok: true });

    // The legacy rows are still checked by their rule.
    await dropAppendOnly(t.app.get(DataSource));
    await sql(t.app.get(DataSource), 'UPDATE audit_log SET detail = ? WHERE seq = ?', [
      '{"i":99}',
      legacy[4].seq,
    ]);
    expect((await t.http().get('/api/v1/audit/verify').expect(200)).body).toMatchObject({
      ok: false,
      first_broken_id: legacy[4].id,
    });
  });
});

describe(`sealed values are bound to their row (${ENGINE})`, () => {
  let t: TestApp;
  afterEach(async () => {
    await t?.close();
  });

  it("camera A's sealed password copied into camera B does not open: B reads credentials_error, the list still answers", async () => {
    t = await startTestApp();
    for (const [id, pass] of [
      ['cam_a', 'alpha-secret'],
      ['cam_b', 'bravo-secret'],
    ]) {
      await t
        .http()
        .post('/api/v1/cameras')
        .send({ id, name: id, vendor: 'hikvision', address: '127.0.0.1', username: 'admin', password: pass })
        .expect(201);
    }
    const ds = t.app.get(DataSource);
    const [a] = await sql(ds, "SELECT password FROM cameras WHERE id = 'cam_a'");
    await sql(ds, "UPDATE cameras SET password = ? WHERE id = 'cam_b'", [a.password]);

    const list = (await t.http().get('/api/v1/cameras').expect(200)).body as Array<Record<string, unknown>>;
    const b = list.find((c) => c.id === 'cam_b')!;
    expect(b).toMatchObject({ has_password: true });
    expect(b.credentials_error).toMatch(/camera `cam_b`: password cannot be opened/);
    expect(list.find((c) => c.id === 'cam_a')).toMatchObject({ credentials_error: null });
    expect(JSON.stringify(list)).not.toContain('alpha-secret');

    const probe = await t.http().get('/api/v1/cameras/cam_b/test').expect(409);
    expect(probe.body).toMatchObject({ code: 'CAMERA_CREDENTIALS_UNREADABLE' });
    expect(JSON.stringify(probe.body)).not.toContain('alpha-secret');
    // What the recorder gets: no URL, and the reason it reports as recorder_error / last_error.
    const target = await t.app.get(CamerasService).getRecordTarget('cam_b');
    expect(target).toMatchObject({ recordUrl: null, credentialsError: expect.stringMatching(/password/) });

    // Setting it again mends it.
    await t.http().patch('/api/v1/cameras/cam_b').send({ password: 'bravo-2' }).expect(200);
    const again = (await t.http().get('/api/v1/cameras/cam_b').expect(200)).body;
    expect(again).toMatchObject({ credentials_error: null });
    expect(again.record_url_masked).toMatch(/127\.0\.0\.1/);
  });

  it('enc:v1 values (before the binding) are re-sealed as v2 bound to their row at boot, and still open', async () => {
    t = await startTestApp();
    await t
      .http()
      .post('/api/v1/cameras')
      .send({
        id: 'old_cam',
        name: 'old',
        vendor: 'hikvision',
        address: '127.0.0.1',
        username: 'u',
        password: 'x',
      })
      .expect(201);
    const store = t.store;
    const { key } = loadOrCreateSecretKey(store.config.secretKey, store.config.secretKeyFile);
    const ds = t.app.get(DataSource);
    await sql(ds, "UPDATE cameras SET password = ?, main_stream_url = ? WHERE id = 'old_cam'", [
      sealV1(key, 'legacy-pass'),
      sealV1(key, 'rtsp://u:legacy-pass@127.0.0.1:8554/main'),
    ]);
    await sql(
      ds,
      `INSERT INTO webhooks (id, name, url, event_types, min_severity, secret, enabled, module_id, cursor_seq,
         consecutive_failures, failing, last_success_at, last_failure_at, created_at, updated_at)
       VALUES ('wh_old', 'old', 'https://example.com/hook', '["*"]', 'info', ?, ?, NULL, 0, 0, ?, NULL, NULL, ?, ?)`,
      [
        sealV1(key, 'whsec_legacy'),
        ENGINE === 'postgres' ? false : 0, // disabled: nothing is sent to example.com
        ENGINE === 'postgres' ? false : 0,
        new Date().toISOString(),
        new Date().toISOString(),
      ],
    );
    await sql(ds, 'INSERT INTO settings (key, value, secret, updated_at) VALUES (?, ?, ?, ?)', [
      'smtp',
      sealV1(key, JSON.stringify({ password: 'legacy-smtp' })),
      ENGINE === 'postgres' ? true : 1,
      new Date().toISOString(),
    ]);

    await t.stopServer();
    t = await startTestApp({ store });
    const box = new SecretBox(key);
    const ds2 = t.app.get(DataSource);
    const [cam] = await sql(ds2, "SELECT password, main_stream_url FROM cameras WHERE id = 'old_cam'");
    expect(String(cam.password)).toMatch(/^enc:v2:/);
    expect(box.open(String(cam.password), cameraAad('old_cam', 'password'))).toBe('legacy-pass');
    expect(box.open(String(cam.main_stream_url), cameraAad('old_cam', 'mainStreamUrl'))).toMatch(
      /legacy-pass/,
    );
    const [hook] = await sql(ds2, "SELECT secret FROM webhooks WHERE id = 'wh_old'");
    expect(String(hook.secret)).toMatch(/^enc:v2:/);
    expect(box.open(String(hook.secret), webhookSecretAad('wh_old'))).toBe('whsec_legacy');
    const [setting] = await sql(ds2, "SELECT value FROM settings WHERE key = 'smtp'");
    expect(String(setting.value)).toMatch(/^enc:v2:/);
    expect(await t.app.get(SettingsService).get('smtp')).toEqual({ password: 'legacy-smtp' });
    const dto = (await t.http().get('/api/v1/cameras/old_cam').expect(200)).body;
    expect(dto).toMatchObject({
      credentials_error: null,
      main_stream_url: expect.stringMatching(/127\.0\.0\.1/),
    });
  });
});
