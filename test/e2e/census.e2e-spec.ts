import { ROLE_CAPABILITIES, type Role } from '../../src/auth/capabilities';
import { census, type RouteInfo } from '../support/census';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { AiTaskEntity } from '../../src/ai/entities/ai-task.entity';
import { RecordingScheduleEntity } from '../../src/schedules/entities/recording-schedule.entity';
import { SnapshotScheduleEntity } from '../../src/snapshots/entities/snapshot-schedule.entity';
import { ZoneEntity } from '../../src/zones/entities/zone.entity';
import { ZoneEventEntity } from '../../src/zones/entities/zone-event.entity';
import { DatabaseService } from '../../src/database/database.service';
import { ClipEntity } from '../../src/exports/entities/clip.entity';
import { SegmentEntity } from '../../src/timeline/entities/segment.entity';
import { EventsService } from '../../src/events/events.service';
import { startTestApp, type TestApp, waitFor } from '../support/test-app';
import { ENGINE } from '../support/test-db';

const ADMIN = { username: 'root', password: 'root-password-1' };
const ROLES_UNDER_TEST: Role[] = ['manager', 'guard', 'viewer', 'integration'];

/** Routes a camera-scoped credential may call whatever its scope, and why. */
const SCOPE_NEUTRAL: Record<string, string> = {
  'GET /api/v1/cameras': 'the list is filtered to the scope (asserted below)',
  'POST /api/v1/cameras': 'the new id must be inside the scope (asserted below)',
  'GET /api/v1/camera-vendors': 'a static catalogue',
  'GET /internal/v1/segments/:id': 'node-to-node only: any user credential gets 401 (cluster-media e2e)',
  'GET /internal/v1/clips/:id': 'node-to-node only: any user credential gets 401 (cluster-media e2e)',
  'GET /api/v1/auth/me': 'the caller itself',
  'GET /api/v1/health/cameras': 'filtered to the scope (asserted below)',
  'GET /api/v1/events': 'camera-scoped keys cannot hold events:read',
  'GET /api/v1/events/types': 'camera-scoped keys cannot hold events:read',
  'GET /api/v1/events/stream':
    'camera-scoped keys cannot hold events:read (and the stream is filtered to the scope)',
  'GET /api/v1/incidents': 'camera-scoped keys cannot hold events:read (and the list is filtered)',
  'GET /api/v1/incidents/:id/segments': 'the segments are filtered to the scope',
  'GET /api/v1/clips': 'the list is filtered to the scope',
  'GET /api/v1/ai/tasks': 'the tasks are filtered to the scope',
  'GET /api/v1/ai/samplers': 'the samplers are filtered to the scope',
  'GET /api/v1/system': 'counts filtered to the scope, volume figures withheld (asserted below)',
  'POST /api/v1/ai/events': 'the body camera_id is checked against the scope (asserted below)',
  'ALL /m/:id': "the sidecar receives the caller's camera scope in x-heldar-camera-scope and must apply it",
  'ALL /m/:id/*path':
    "the sidecar receives the caller's camera scope in x-heldar-camera-scope and must apply it",
  'GET /api/v1/system/retention':
    'the forecast is filtered to the scope, store-wide figures withheld (asserted below)',
};

/** Routes keyed by a resource whose camera is resolved first: the id of one on cam_a. */
const RESOURCE_KEYED: Record<string, string> = {
  '/api/v1/segments/:id': 'seg_on_cam_a',
  '/api/v1/clips/:id': 'clip_on_cam_a',
  '/api/v1/ai-tasks/:id': 'ai_on_cam_a',
  '/api/v1/zones/:id': 'zone_on_cam_a',
  '/api/v1/schedules/:id': 'sch_on_cam_a',
  '/api/v1/snapshot-schedules/:id': 'ssch_on_cam_a',
  '/media/snapshots/': 'zoneevt_zev_oncama.jpg',
  '/media/clips/': `clip_${'a'.repeat(32)}.mp4`,
  '/api/v1/playback/:id': 'pbs_census', // replaced by a real session id in beforeAll
};
const resourceOf = (r: RouteInfo) => Object.keys(RESOURCE_KEYED).find((prefix) => r.path.startsWith(prefix));

/** Mutating routes that write no audit row, and why. */
const NOT_AUDITED: Record<string, string> = {
  'POST /api/v1/cameras/:id/test': 'a probe: it reads the stream and changes nothing',
  'POST /api/v1/ai/events': 'the data plane (high volume); the outbox records who produced each batch',
  'ALL /m/:id': "the sidecar's own requests; the kernel audits its registration",
  'ALL /m/:id/*path': "the sidecar's own requests; the kernel audits its registration",
  'POST /api/v1/cameras/:id/liveview': 'the same as GET: hands out viewer URLs, changes nothing',
  'POST /internal/mediamtx-auth': "MediaMTX's allow/deny question about a reader; changes nothing",
};

/** Routes whose 200 is an open stream (SSE): the census reads the status, then hangs up. */
const STREAMING = new Set(['GET /api/v1/events/stream']);

const SEG_START = new Date(Date.now() - 60_000).toISOString();
const SEG_END = new Date(Date.now() - 58_000).toISOString();

const key = (r: RouteInfo) => `${r.method} ${r.path}`;
/** Routes whose camera comes from the path: `/cameras/:id/…` and the media files `/media/recordings/<camera>/…`
 * and `/media/snapshots/<camera>/…` (scheduled snapshots). */
const isCameraKeyed = (r: RouteInfo) =>
  r.path.startsWith('/api/v1/cameras/:id') ||
  r.path.startsWith('/media/recordings/') ||
  r.path.startsWith('/media/snapshots/:id/');
/** A concrete URL of a route for `camera` (or another id). */
const concrete = (r: RouteInfo, id: string) =>
  r.path.replace(':id', id).replace('*path', `${id}/20260101_000000.mp4`);

describe(`route census with auth on (${ENGINE})`, () => {
  let t: TestApp;
  let routes: RouteInfo[];
  let adminToken: string;
  const tokens = new Map<Role, string>();
  let scopedKey: string;

  /** A streaming route: its status, and its JSON body unless it is a 200 (left open, so cut). */
  const openStream = (path: string, token?: string) =>
    new Promise<{ status: number; body: { error?: string; code?: string } }>((resolve, reject) => {
      const headers = token ? { Authorization: `Bearer ${token}` } : undefined;
      const req = get(`${t.baseUrl}${path}`, { headers }, (res) => {
        const status = res.statusCode ?? 0;
        res.on('error', () => undefined); // the cut below ends a 200 stream as "aborted"
        if (status === 200) {
          resolve({ status, body: {} });
          req.destroy();
          return;
        }
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status, body: JSON.parse(text) }));
      });
      req.on('error', reject);
    });

  const call = (r: RouteInfo, path: string, token?: string) => {
    if (STREAMING.has(key(r))) return openStream(path, token);
    const verb = (r.method === 'ALL' ? 'get' : r.method.toLowerCase()) as 'get' | 'post' | 'patch' | 'delete'; // ALL: the proxy
    const req = t.http()[verb](path);
    if (token) req.set('Authorization', `Bearer ${token}`);
    return req.send({});
  };
  const login = async (username: string, password: string) =>
    (await t.http().post('/api/v1/auth/login').send({ username, password }).expect(200)).body.token as string;

  beforeAll(async () => {
    t = await startTestApp({
      env: {
        HELDAR_AUTH_ENABLED: 'true',
        HELDAR_BOOTSTRAP_ADMIN_USER: ADMIN.username,
        HELDAR_BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
        HELDAR_LOGIN_RATE_LIMIT_PER_MIN: '0',
      },
    });
    routes = census(t.app);
    adminToken = await login(ADMIN.username, ADMIN.password);
    const admin = () => ({ Authorization: `Bearer ${adminToken}` });
    for (const id of ['cam_a', 'cam_b']) {
      await t.http().post('/api/v1/cameras').set(admin()).send({ id, name: id }).expect(201);
    }
    for (const role of ROLES_UNDER_TEST) {
      const username = `u_${role}`;
      await t
        .http()
        .post('/api/v1/users')
        .set(admin())
        .send({ username, password: `${role}-password`, role })
        .expect(201);
      tokens.set(role, await login(username, `${role}-password`));
    }
    const created = await t
      .http()
      .post('/api/v1/api-keys')
      .set(admin())
      .send({
        name: 'scoped to cam_b',
        capabilities: [
          'registry:manage',
          'camera:read',
          'video:live',
          'video:playback',
          'video:export',
          'system:read',
          'ai:tasks',
          'ai:ingest',
          'ai:frames',
        ],
        scope_kind: 'cameras',
        scope_cameras: ['cam_b'],
        confirm_privileged: true,
      })
      .expect(201);
    scopedKey = created.body.key;
    // A real 2 s recording on cam_a (for the export in the audit walk) and a clip of it.
    const recDir = join(t.store.config.recordingsDirAbs, 'cam_a');
    mkdirSync(recDir, { recursive: true });
    execFileSync('ffmpeg', [
      '-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=5:duration=2', '-c:v', 'libx264',
      '-preset', 'ultrafast', '-g', '5', '-pix_fmt', 'yuv420p',
      '-movflags', '+frag_keyframe+empty_moov+default_base_moof', '-y', join(recDir, '20260101_000000.mp4'),
    ]); // prettier-ignore
    const now = new Date().toISOString();
    await t.app.get(DatabaseService).run((m) =>
      m.getRepository(ClipEntity).insert({
        id: 'clip_on_cam_a',
        cameraId: 'cam_a',
        file: `clip_${'a'.repeat(32)}.mp4`,
        fromTime: now,
        toTime: now,
        requestedSeconds: 1,
        coveredSeconds: 1,
        gaps: [],
        segmentCount: 1,
        sizeBytes: 1,
        sha256: '0'.repeat(64),
        createdBy: 'system',
        createdByName: 'system',
        createdAt: now,
      }),
    );
    await t.app.get(DatabaseService).run((m) =>
      m.getRepository(RecordingScheduleEntity).insert({
        id: 'sch_on_cam_a',
        cameraId: 'cam_a',
        days: [0],
        timeStart: '08:00',
        timeEnd: '09:00',
        enabled: true,
        createdAt: now,
        updatedAt: now,
      }),
    );
    await t.app.get(DatabaseService).run((m) =>
      m.getRepository(SnapshotScheduleEntity).insert({
        id: 'ssch_on_cam_a',
        cameraId: 'cam_a',
        intervalSeconds: 86_400,
        enabled: false,
        createdAt: now,
        updatedAt: now,
      }),
    );
    await t.app.get(DatabaseService).run((m) =>
      m.getRepository(ZoneEntity).insert({
        id: 'zone_on_cam_a',
        cameraId: 'cam_a',
        name: 'Census',
        kind: 'region',
        polygon: [
          [0, 0],
          [1, 0],
          [1, 1],
        ],
        dwellSeconds: 0,
        labels: [],
        severity: 'info',
        config: {},
        enabled: true,
        createdAt: now,
        updatedAt: now,
      }),
    );
    await t.app.get(DatabaseService).run((m) =>
      m.getRepository(ZoneEventEntity).insert({
        id: 'zev_oncama',
        cameraId: 'cam_a',
        zoneId: 'zone_on_cam_a',
        zoneName: 'Census',
        trackId: '1',
        eventType: 'enter',
        label: 'person',
        timestamp: now,
        dwellSeconds: null,
        evidencePath: '/media/snapshots/zoneevt_zev_oncama.jpg',
        createdAt: now,
      }),
    );
    await t.app.get(DatabaseService).run((m) =>
      m.getRepository(AiTaskEntity).insert({
        id: 'ai_on_cam_a',
        cameraId: 'cam_a',
        taskType: 'census',
        enabled: true,
        streamProfile: 'sub',
        fps: 1,
        width: 320,
        config: {},
        createdAt: now,
        updatedAt: now,
      }),
    );
    await t.app.get(DatabaseService).run((m) =>
      m.getRepository(SegmentEntity).insert({
        id: 'seg_on_cam_a',
        cameraId: 'cam_a',
        path: 'cam_a/20260101_000000.mp4',
        startTime: SEG_START,
        endTime: SEG_END,
        durationS: 2,
        codec: 'h264',
        width: 320,
        height: 240,
        fps: 5,
        sizeBytes: 1000,
        container: 'mp4',
        locked: 0,
        evidenceLocked: false,
        incidentId: null,
        createdAt: now,
      }),
    );
    // A playback session on cam_a (its recorded file is fragmented MP4, like the recorder's).
    RESOURCE_KEYED['/api/v1/playback/:id'] = (
      await t
        .http()
        .post('/api/v1/cameras/cam_a/playback')
        .set(admin())
        .send({ from: SEG_START, to: SEG_END })
        .expect(201)
    ).body.id;
  });

  afterAll(async () => {
    await t?.close();
  });

  it('an anonymous caller gets 401 everywhere but the public routes', async () => {
    for (const r of routes) {
      const res = await call(r, concrete(r, 'cam_a'));
      if (r.isPublic) {
        expect({ route: key(r), status: res.status === 401 }).toEqual({ route: key(r), status: false });
      } else {
        expect({ route: key(r), status: res.status, code: res.body.code }).toEqual({
          route: key(r),
          status: 401,
          code: 'UNAUTHORIZED',
        });
      }
    }
  });

  it('a role lacking every capability a route declares gets 403; one holding it gets through', async () => {
    for (const r of routes.filter((x) => !x.isPublic)) {
      for (const role of ROLES_UNDER_TEST) {
        const held =
          r.authenticatedOnly ||
          r.capabilities.some((c) => (ROLE_CAPABILITIES[role] as readonly string[]).includes(c));
        const res = await call(r, concrete(r, r.method === 'DELETE' ? 'missing' : 'cam_a'), tokens.get(role));
        const denied = res.status === 401 || (res.status === 403 && res.body.code === 'MISSING_CAPABILITY');
        expect({ route: key(r), role, denied }).toEqual({ route: key(r), role, denied: !held });
      }
    }
  });

  it('a key scoped to another camera gets 403 on camera-keyed and fleet routes; every route has a census answer', async () => {
    const unanswered: string[] = [];
    for (const r of routes.filter((x) => !x.isPublic)) {
      if (isCameraKeyed(r)) {
        const other = await call(r, concrete(r, 'cam_a'), scopedKey);
        const missing = await call(r, concrete(r, 'no_such_camera'), scopedKey);
        expect({ route: key(r), status: other.status }).toEqual({ route: key(r), status: 403 });
        expect({ route: key(r), missing: missing.body }).toEqual({
          route: key(r),
          missing: { ...other.body, error: other.body.error.replace('cam_a', 'no_such_camera') },
        });
      } else if (resourceOf(r)) {
        const id = RESOURCE_KEYED[resourceOf(r)!];
        const other = await call(r, r.path.replace(':id', id).replace('*path', id), scopedKey);
        const missing = await call(
          r,
          r.path.replace(':id', 'no_such_thing').replace('*path', 'no_such_thing'),
          scopedKey,
        );
        expect({ route: key(r), status: other.status }).toEqual({ route: key(r), status: 403 });
        expect({ route: key(r), missing: missing.body }).toEqual({
          route: key(r),
          missing: { ...other.body, error: other.body.error.replace(id, 'no_such_thing') },
        });
      } else if (r.fleet) {
        const res = await call(r, concrete(r, 'x'), scopedKey);
        expect({ route: key(r), status: res.status }).toEqual({ route: key(r), status: 403 });
      } else if (!(key(r) in SCOPE_NEUTRAL)) {
        unanswered.push(key(r));
      }
    }
    expect(unanswered).toEqual([]);
  });

  it('fleet lists (modules with their base_url, key and webhook ids; sites) refuse the scoped key', async () => {
    for (const path of ['/api/v1/modules', '/api/v1/modules/x', '/api/v1/sites', '/api/v1/sites/x']) {
      const res = await t.http().get(path).set('X-API-Key', scopedKey);
      expect({ path, status: res.status, code: res.body.code }).toEqual({
        path,
        status: 403,
        code: 'FLEET_ONLY',
      });
    }
  });

  it('the scoped key sees only its cameras and cannot create one outside its scope', async () => {
    const h = { 'X-API-Key': scopedKey };
    expect(
      (await t.http().get('/api/v1/cameras').set(h).expect(200)).body.map((c: { id: string }) => c.id),
    ).toEqual(['cam_b']);
    expect((await t.http().get('/api/v1/cameras/cam_b').set(h).expect(200)).body.id).toBe('cam_b');
    const res = await t.http().post('/api/v1/cameras').set(h).send({ id: 'cam_c', name: 'C' }).expect(403);
    expect(res.body.code).toBe('CAMERA_SCOPE');
    const health = (await t.http().get('/api/v1/health/cameras').set(h).expect(200)).body;
    expect(health.every((s: { camera_id: string }) => s.camera_id === 'cam_b')).toBe(true);
    const ingest = await t
      .http()
      .post('/api/v1/ai/events')
      .set(h)
      .send({ camera_id: 'cam_a', task_type: 'x' })
      .expect(403);
    expect(ingest.body.code).toBe('CAMERA_SCOPE');
    await t
      .http()
      .post('/api/v1/ai/events')
      .set(h)
      .send({ camera_id: 'cam_b', task_type: 'x', frame_id: 'scoped-1' })
      .expect(200);
    const tasks = (await t.http().get('/api/v1/ai/tasks').set(h).expect(200)).body;
    expect(tasks.map((x: { camera_id: string }) => x.camera_id)).toEqual([]);
    const system = (await t.http().get('/api/v1/system').set(h).expect(200)).body;
    expect(system).toMatchObject({
      cameras_total: 1,
      storage: { disk: null, write_rate_bytes_per_day: null },
    });
    const retention = (await t.http().get('/api/v1/system/retention').set(h).expect(200)).body;
    expect(retention).toMatchObject({ usage: null, last_sweep: null });
    expect(retention.forecast.cameras.map((c: { camera_id: string }) => c.camera_id)).toEqual(['cam_b']);
  });

  it('every mutating route writes an audit row (walked from the census)', async () => {
    const admin = { Authorization: `Bearer ${adminToken}` };
    const ctx: Record<string, string> = {};
    const auditCount = async (action: string) =>
      (await t.http().get(`/api/v1/audit?action=${action}&limit=1000`).set(admin).expect(200)).body.entries
        .length;
    const steps: Array<[string, string, () => Promise<unknown>]> = [
      ['POST /api/v1/cameras', 'create_camera', () => t.http().post('/api/v1/cameras').set(admin).send({ name: 'Walk' }).expect(201)],
      ['PATCH /api/v1/cameras/:id', 'update_camera', () => t.http().patch('/api/v1/cameras/walk').set(admin).send({ priority: 5 }).expect(200)],
      ['DELETE /api/v1/cameras/:id', 'delete_camera', () => t.http().delete('/api/v1/cameras/walk').set(admin).expect(204)],
      ['POST /api/v1/sites', 'create_site', () => t.http().post('/api/v1/sites').set(admin).send({ name: 'Walk Site' }).expect(201)],
      ['PATCH /api/v1/sites/:id', 'update_site', () => t.http().patch('/api/v1/sites/walk_site').set(admin).send({ name: 'W' }).expect(200)],
      ['DELETE /api/v1/sites/:id', 'delete_site', () => t.http().delete('/api/v1/sites/walk_site').set(admin).expect(204)],
      ['POST /api/v1/users', 'create_user', async () => {
        const res = await t.http().post('/api/v1/users').set(admin).send({ username: 'walker', password: 'walker-pass-1' }).expect(201);
        ctx.user = res.body.id;
      }],
      ['PATCH /api/v1/users/:id', 'update_user', () => t.http().patch(`/api/v1/users/${ctx.user}`).set(admin).send({ display_name: 'W' }).expect(200)],
      ['POST /api/v1/users/:id/unlock', 'unlock_user', () => t.http().post(`/api/v1/users/${ctx.user}/unlock`).set(admin).expect(200)],
      ['POST /api/v1/auth/login', 'login', async () => {
        ctx.token = (await t.http().post('/api/v1/auth/login').send({ username: 'walker', password: 'walker-pass-1' }).expect(200)).body.token;
      }],
      ['POST /api/v1/auth/logout', 'logout', () => t.http().post('/api/v1/auth/logout').set('Authorization', `Bearer ${ctx.token}`).expect(204)],
      ['DELETE /api/v1/users/:id', 'delete_user', () => t.http().delete(`/api/v1/users/${ctx.user}`).set(admin).expect(204)],
      ['POST /api/v1/cameras/:id/clip', 'export_clip', () => t.http().post('/api/v1/cameras/cam_a/clip').set(admin).send({ from: SEG_START, to: SEG_END }).expect(201)],
      ['POST /api/v1/segments/:id/evidence-lock', 'evidence_lock', () => t.http().post('/api/v1/segments/seg_on_cam_a/evidence-lock').set(admin).send({ incident_id: 'inc-1' }).expect(200)],
      ['DELETE /api/v1/segments/:id/evidence-lock', 'evidence_unlock', () => t.http().delete('/api/v1/segments/seg_on_cam_a/evidence-lock').set(admin).expect(200)],
      ['POST /api/v1/clips/:id/evidence-lock', 'evidence_lock', () => t.http().post('/api/v1/clips/clip_on_cam_a/evidence-lock').set(admin).expect(200)],
      ['DELETE /api/v1/clips/:id/evidence-lock', 'evidence_unlock', () => t.http().delete('/api/v1/clips/clip_on_cam_a/evidence-lock').set(admin).expect(200)],
      ['POST /api/v1/api-keys', 'create_api_key', async () => {
        ctx.key = (await t.http().post('/api/v1/api-keys').set(admin).send({ name: 'walk' }).expect(201)).body.id;
      }],
      ['PATCH /api/v1/api-keys/:id', 'update_api_key', () => t.http().patch(`/api/v1/api-keys/${ctx.key}`).set(admin).send({ name: 'w' }).expect(200)],
      ['DELETE /api/v1/api-keys/:id', 'delete_api_key', () => t.http().delete(`/api/v1/api-keys/${ctx.key}`).set(admin).expect(204)],
      ['POST /api/v1/webhooks', 'create_webhook', async () => {
        ctx.wh = (await t.http().post('/api/v1/webhooks').set(admin).send({ url: 'http://127.0.0.1:9/nobody-listens' }).expect(201)).body.id;
      }],
      ['PATCH /api/v1/webhooks/:id', 'update_webhook', () => t.http().patch(`/api/v1/webhooks/${ctx.wh}`).set(admin).send({ name: 'w' }).expect(200)],
      ['POST /api/v1/webhooks/:id/test', 'test_webhook', () => t.http().post(`/api/v1/webhooks/${ctx.wh}/test`).set(admin).expect(200)],
      ['POST /api/v1/webhooks/:id/deliveries/:delivery_id/replay', 'replay_webhook_delivery', async () => {
        await t.app.get(EventsService).emitExternal({ type: 'census_walk' });
        const d = await waitFor(async () => {
          const list = (await t.http().get(`/api/v1/webhooks/${ctx.wh}/deliveries?status=retrying`).set(admin).expect(200)).body;
          return list[0] as { id: string } | undefined;
        }, 15_000, 'a failed delivery');
        await t.http().post(`/api/v1/webhooks/${ctx.wh}/deliveries/${d.id}/replay`).set(admin).expect(200);
      }],
      ['DELETE /api/v1/webhooks/:id', 'delete_webhook', () => t.http().delete(`/api/v1/webhooks/${ctx.wh}`).set(admin).expect(204)],
      ['POST /api/v1/modules', 'register_module', () => t.http().post('/api/v1/modules').set(admin).send({ id: 'walk-mod', name: 'Walk', base_url: 'http://127.0.0.1:9' }).expect(201)],
      ['DELETE /api/v1/modules/:id', 'unregister_module', () => t.http().delete('/api/v1/modules/walk-mod').set(admin).expect(204)],
      ['POST /api/v1/cameras/:id/ai-tasks', 'create_ai_task', async () => {
        ctx.task = (await t.http().post('/api/v1/cameras/cam_a/ai-tasks').set(admin).send({ task_type: 'walk' }).expect(201)).body.id;
      }],
      ['PATCH /api/v1/ai-tasks/:id', 'update_ai_task', () => t.http().patch(`/api/v1/ai-tasks/${ctx.task}`).set(admin).send({ fps: 2 }).expect(200)],
      ['DELETE /api/v1/ai-tasks/:id', 'delete_ai_task', () => t.http().delete(`/api/v1/ai-tasks/${ctx.task}`).set(admin).expect(204)],
      ['POST /api/v1/cameras/:id/zones', 'create_zone', async () => {
        ctx.zone = (await t.http().post('/api/v1/cameras/cam_a/zones').set(admin).send({ name: 'Walk', polygon: [[0, 0], [1, 0], [1, 1]] }).expect(201)).body.id;
      }],
      ['PATCH /api/v1/zones/:id', 'update_zone', () => t.http().patch(`/api/v1/zones/${ctx.zone}`).set(admin).send({ severity: 'warning' }).expect(200)],
      ['DELETE /api/v1/zones/:id', 'delete_zone', () => t.http().delete(`/api/v1/zones/${ctx.zone}`).set(admin).expect(204)],
      ['POST /api/v1/cameras/:id/schedules', 'create_schedule', async () => {
        ctx.schedule = (await t.http().post('/api/v1/cameras/cam_a/schedules').set(admin).send({ days: [0], time_start: '08:00', time_end: '09:00' }).expect(201)).body.id;
      }],
      ['PATCH /api/v1/schedules/:id', 'update_schedule', () => t.http().patch(`/api/v1/schedules/${ctx.schedule}`).set(admin).send({ enabled: false }).expect(200)],
      ['DELETE /api/v1/schedules/:id', 'delete_schedule', () => t.http().delete(`/api/v1/schedules/${ctx.schedule}`).set(admin).expect(204)],
      ['POST /api/v1/cameras/:id/snapshot-schedules', 'create_snapshot_schedule', async () => {
        ctx.snapSchedule = (await t.http().post('/api/v1/cameras/cam_a/snapshot-schedules').set(admin).send({ interval_seconds: 86400, enabled: false }).expect(201)).body.id;
      }],
      ['PATCH /api/v1/snapshot-schedules/:id', 'update_snapshot_schedule', () => t.http().patch(`/api/v1/snapshot-schedules/${ctx.snapSchedule}`).set(admin).send({ interval_seconds: 600 }).expect(200)],
      ['DELETE /api/v1/snapshot-schedules/:id', 'delete_snapshot_schedule', () => t.http().delete(`/api/v1/snapshot-schedules/${ctx.snapSchedule}`).set(admin).expect(204)],
      ['POST /api/v1/cameras/:id/record-trigger', 'record_trigger', () => t.http().post('/api/v1/cameras/cam_a/record-trigger').set(admin).send({ reason: 'walk' }).expect(200)],
      ['POST /api/v1/cameras/:id/playback', 'view_playback', async () => {
        ctx.pbs = (await t.http().post('/api/v1/cameras/cam_a/playback').set(admin).send({ from: SEG_START, to: SEG_END }).expect(201)).body.id;
      }],
      ['DELETE /api/v1/playback/:id', 'delete_playback_session', () => t.http().delete(`/api/v1/playback/${ctx.pbs}`).set(admin).expect(204)],
      ['PUT /api/v1/system/retention', 'update_retention_limits', () => t.http().put('/api/v1/system/retention').set(admin).send({ max_recordings_gb: 100 }).expect(200)],
      ['POST /api/v1/system/retention/sweep', 'run_retention_sweep', () => t.http().post('/api/v1/system/retention/sweep').set(admin).expect(200)],
    ]; // prettier-ignore
    const mutating = routes.filter((r) => r.method !== 'GET').map(key);
    expect(mutating.filter((k) => !(k in NOT_AUDITED)).sort()).toEqual(steps.map((s) => s[0]).sort());
    for (const [route, action, run] of steps) {
      const before = await auditCount(action);
      await run();
      expect({ route, written: (await auditCount(action)) - before }).toEqual({ route, written: 1 });
    }
    expect((await t.http().get('/api/v1/audit/verify').set(admin).expect(200)).body).toMatchObject({
      ok: true,
      first_broken_id: null,
    });
  });
});
