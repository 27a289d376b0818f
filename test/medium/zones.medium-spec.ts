import { Logger } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DetectionBatch } from '../../src/ai/detection-consumer';
import type { AuditService } from '../../src/audit/audit.service';
import { SYSTEM_PRINCIPAL } from '../../src/auth/principal';
import { CameraDeletionHooks } from '../../src/cameras/camera-deletion-hooks';
import type { CamerasService } from '../../src/cameras/cameras.service';
import { Clock } from '../../src/common/clock';
import { CommonModule } from '../../src/common/common.module';
import { prefixedId } from '../../src/common/ids';
import type { Loops } from '../../src/common/loops';
import { RowRetention } from '../../src/common/row-retention';
import { ConfigModule } from '../../src/config/config.module';
import { DatabaseModule } from '../../src/database/database.module';
import { ENTITIES } from '../../src/app.entities';
import { DatabaseService } from '../../src/database/database.service';
import { CacheInvalidation } from '../../src/events/cache-invalidation';
import { EventBus, type KernelEvent } from '../../src/events/event-bus';
import { EventsModule } from '../../src/events/events.module';
import { EventsService } from '../../src/events/events.service';
import { StorageAdapter } from '../../src/media/storage.adapter';
import type { SamplerService } from '../../src/sampler/sampler.service';
import { ZoneDetectionsConsumer } from '../../src/zones/zone-detections.consumer';
import { ZoneEvidence } from '../../src/zones/zone-evidence';
import { ZonesRepository } from '../../src/zones/zones.repository';
import { ZonesService } from '../../src/zones/zones.service';
import { createTestStore, ENGINE, type TestStore } from '../support/test-db';

/** A person whose feet (bottom-centre of the bbox) stand at (x, y). */
const at = (cameraId: string, track: string, x: number, y: number): DetectionBatch => ({
  cameraId,
  siteId: null,
  taskType: 'object_detection',
  frameKey: null,
  timestamp: new Date().toISOString(),
  detections: [
    {
      id: prefixedId('det_'),
      label: 'person',
      confidence: 0.9,
      bbox: [x - 0.05, y - 0.2, 0.1, 0.2],
      trackId: track,
      attributes: {},
    },
  ],
});
const LEFT_HALF: Array<[number, number]> = [
  [0, 0],
  [0.5, 0],
  [0.5, 1],
  [0, 1],
];

/**
 * The zones module on a real migrated store: CRUD, the detection consumer (zone events, kernel
 * events, occupancy, evidence from the sampler's frame) and the camera-deletion cascade with its
 * retry. Each test uses cameras of its own: no test reads another's rows.
 */
describe(`zones: rows, consumer and the camera-deletion cascade (${ENGINE})`, () => {
  let store: TestStore;
  let mod: TestingModule;
  let db: DatabaseService;
  let bus: EventBus;
  let repo: ZonesRepository;
  let consumer: ZoneDetectionsConsumer;
  let zones: ZonesService;
  let hooks: CameraDeletionHooks;
  const framesDir = () => join(store.dataDir, 'frames');

  beforeAll(async () => {
    store = await createTestStore();
    mod = await Test.createTestingModule({
      imports: [
        ConfigModule.forRoot(store.config),
        CommonModule,
        DatabaseModule.forRoot(ENTITIES),
        EventsModule,
      ],
    }).compile();
    await mod.init();
    db = mod.get(DatabaseService);
    bus = mod.get(EventBus);
    repo = new ZonesRepository(db);
    const sampler = { frameFile: (cam: string, p: string) => join(framesDir(), cam, `latest_${p}.jpg`) };
    const evidence = new ZoneEvidence(sampler as SamplerService, new StorageAdapter(), store.config);
    hooks = new CameraDeletionHooks(bus);
    hooks.retryDelaysMs = [10, 10];
    hooks.onApplicationBootstrap();
    const loops = { start: () => undefined } as unknown as Loops;
    consumer = new ZoneDetectionsConsumer(
      repo,
      evidence,
      mod.get(EventsService),
      hooks,
      new RowRetention(),
      loops,
      mod.get(Clock),
      mod.get(CacheInvalidation),
    );
    consumer.onModuleInit();
    consumer.onApplicationBootstrap();
    const cameras = { lookup: (id: string) => Promise.resolve({ id }) } as unknown as CamerasService;
    const audit = { record: () => Promise.resolve() } as unknown as AuditService;
    zones = new ZonesService(repo, mod.get(CacheInvalidation), cameras, audit, mod.get(Clock));
  });

  afterAll(async () => {
    await hooks.beforeApplicationShutdown();
    await mod.close();
    await store.cleanup();
  });

  const count = async (table: string, cameraId: string) =>
    Number(
      (
        await db.run<Array<{ n: number | string }>>((m) =>
          m.query(`SELECT COUNT(*) AS n FROM ${table} WHERE camera_id = ${db.isSqlite ? '?' : '$1'}`, [
            cameraId,
          ]),
        )
      )[0].n,
    );
  const busEvents = () => {
    const got: KernelEvent[] = [];
    const off = bus.onAny((e) => void got.push(e));
    return { got, off };
  };
  /** A camera with a left-half region confirmed after 2 frames. */
  const cameraWithZone = async () => {
    const cameraId = prefixedId('cam_');
    const { zone } = await zones.create(SYSTEM_PRINCIPAL, cameraId, {
      name: 'left',
      polygon: LEFT_HALF,
      labels: ['person'],
      severity: 'warning',
      config: { confirm_frames: 2 },
    });
    return { cameraId, zone };
  };

  it('create is idempotent per camera and name; update and delete change what is read', async () => {
    const { cameraId, zone } = await cameraWithZone();
    const again = await zones.create(SYSTEM_PRINCIPAL, cameraId, { name: 'left', polygon: LEFT_HALF });
    expect(again).toEqual({ zone: expect.objectContaining({ id: zone.id }), created: false });
    const other = await zones.create(SYSTEM_PRINCIPAL, cameraId, {
      name: 'door',
      kind: 'line',
      polygon: [
        [0.5, 0],
        [0.5, 1],
      ],
    });
    expect(other.created).toBe(true);
    expect((await zones.list(cameraId)).map((z) => z.name)).toEqual(['left', 'door']);
    const updated = await zones.update(SYSTEM_PRINCIPAL, zone.id, { enabled: false, dwell_seconds: 30 });
    expect(updated).toMatchObject({ id: zone.id, enabled: false, dwellSeconds: 30 });
    expect((await zones.occupancyOf(cameraId)).map((o) => o.zone_id)).toEqual([other.zone.id]);
    await zones.delete(SYSTEM_PRINCIPAL, other.zone.id);
    expect((await zones.list(cameraId)).map((z) => z.id)).toEqual([zone.id]);
    await expect(zones.update(SYSTEM_PRINCIPAL, other.zone.id, { name: 'x' })).rejects.toMatchObject({
      code: 'ZONE_NOT_FOUND',
    });
    await expect(
      zones.create(SYSTEM_PRINCIPAL, cameraId, { name: 'bad', polygon: [[0, 0]] as Array<[number, number]> }),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  it('detections become zone events, kernel events and occupancy; the evidence is the sampler frame', async () => {
    const { cameraId, zone } = await cameraWithZone();
    mkdirSync(join(framesDir(), cameraId), { recursive: true });
    writeFileSync(join(framesDir(), cameraId, 'latest_sub.jpg'), 'JPEG-OF-' + cameraId);
    const { got, off } = busEvents();
    await consumer.consume(at(cameraId, 't1', 0.25, 0.5));
    await consumer.consume(at(cameraId, 't1', 0.25, 0.6)); // confirmed: enter
    await consumer.consume(at(cameraId, 't1', 0.75, 0.6));
    await consumer.consume(at(cameraId, 't1', 0.8, 0.6)); // out for 2 frames: exit
    off();
    const rows = await zones.zoneEvents({ cameraId, limit: 10 });
    expect(rows.map((r) => r.eventType).sort()).toEqual(['enter', 'exit']);
    const enter = rows.find((r) => r.eventType === 'enter')!;
    expect(enter).toMatchObject({ zoneId: zone.id, zoneName: 'left', trackId: 't1', label: 'person' });
    expect(enter.evidencePath).toBe(`/media/snapshots/zoneevt_${enter.id}.jpg`);
    const file = join(store.dataDir, 'snapshots', `zoneevt_${enter.id}.jpg`);
    expect(readFileSync(file, 'utf8')).toBe('JPEG-OF-' + cameraId);
    expect((await zones.evidenceOwner(`zoneevt_${enter.id}.jpg`))?.id).toBe(enter.id);
    expect(rows.find((r) => r.eventType === 'exit')!.evidencePath).toBeNull();
    const kernel = got.filter((e) => e.cameraId === cameraId);
    expect(kernel.map((e) => [e.eventType, e.severity])).toEqual([
      ['zone_enter', 'warning'],
      ['zone_exit', 'warning'],
    ]);
    expect(kernel[0].payload).toMatchObject({
      zone_event_id: enter.id,
      zone_id: zone.id,
      evidence: enter.evidencePath,
    });
    expect(await zones.occupancyOf(cameraId)).toEqual([
      { zone_id: zone.id, count: 0, updated_at: expect.any(String) },
    ]);
    expect(await count('zone_occupancy', cameraId)).toBe(1);
  });

  it('a camera without a sampled frame gets no evidence file', async () => {
    const { cameraId } = await cameraWithZone();
    await consumer.consume(at(cameraId, 't2', 0.2, 0.5));
    await consumer.consume(at(cameraId, 't2', 0.2, 0.5));
    const [enter] = await zones.zoneEvents({ cameraId, limit: 10 });
    expect(enter).toMatchObject({ eventType: 'enter', evidencePath: null });
    expect(existsSync(join(store.dataDir, 'snapshots', `zoneevt_${enter.id}.jpg`))).toBe(false);
  });

  const populated = async () => {
    const { cameraId } = await cameraWithZone();
    await consumer.consume(at(cameraId, 't3', 0.2, 0.5));
    await consumer.consume(at(cameraId, 't3', 0.2, 0.5));
    expect(await count('zones', cameraId)).toBe(1);
    expect(await count('zone_events', cameraId)).toBe(1);
    expect(await count('zone_occupancy', cameraId)).toBe(1);
    return cameraId;
  };

  it('camera_deleted removes its zones, zone events and occupancy', async () => {
    const cameraId = await populated();
    const keep = await populated();
    await mod.get(EventsService).emit({ type: 'camera_deleted', cameraId });
    // The cascade runs once the event is committed: wait for it (bounded).
    for (let i = 0; i < 100 && (await count('zones', cameraId)) > 0; i++)
      await new Promise((r) => setTimeout(r, 20));
    for (const t of ['zones', 'zone_events', 'zone_occupancy']) {
      expect(await count(t, cameraId)).toBe(0);
      expect(await count(t, keep)).toBe(1); // another camera's rows stay
    }
  });
});

describe(`zones: a failing camera cleanup is retried, then named (${ENGINE})`, () => {
  let store: TestStore;
  let mod: TestingModule;
  let db: DatabaseService;
  let repo: ZonesRepository;
  let hooks: CameraDeletionHooks;
  let warn: jest.SpyInstance;

  beforeAll(async () => {
    store = await createTestStore();
    mod = await Test.createTestingModule({
      imports: [
        ConfigModule.forRoot(store.config),
        CommonModule,
        DatabaseModule.forRoot(ENTITIES),
        EventsModule,
      ],
    }).compile();
    await mod.init();
    db = mod.get(DatabaseService);
    repo = new ZonesRepository(db);
    hooks = new CameraDeletionHooks(mod.get(EventBus));
    hooks.retryDelaysMs = [10, 10];
    const consumer = new ZoneDetectionsConsumer(
      repo,
      {} as ZoneEvidence,
      mod.get(EventsService),
      hooks,
      new RowRetention(),
      { start: () => undefined } as unknown as Loops,
      mod.get(Clock),
      mod.get(CacheInvalidation),
    );
    consumer.onApplicationBootstrap();
  });
  beforeEach(() => {
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  });
  afterEach(() => jest.restoreAllMocks());
  afterAll(async () => {
    await hooks.beforeApplicationShutdown();
    await mod.close();
    await store.cleanup();
  });

  const zoneOf = async (cameraId: string) => {
    const now = new Date().toISOString();
    await repo.insert({
      id: prefixedId('zone_'),
      cameraId,
      name: 'z',
      kind: 'region',
      polygon: LEFT_HALF,
      dwellSeconds: 0,
      labels: [],
      severity: 'info',
      config: {},
      enabled: true,
      createdAt: now,
      updatedAt: now,
    });
  };

  it('fails once, succeeds on the retry: the rows are gone', async () => {
    const cameraId = prefixedId('cam_');
    await zoneOf(cameraId);
    const real = repo.deleteCamera.bind(repo);
    const spy = jest
      .spyOn(repo, 'deleteCamera')
      .mockRejectedValueOnce(new Error('SQLITE_BUSY: database is locked'))
      .mockImplementation(real);
    expect(await hooks.cleanUp(cameraId)).toEqual([]);
    expect(spy).toHaveBeenCalledTimes(2);
    expect(await repo.forCamera(cameraId)).toEqual([]);
    expect(warn).toHaveBeenCalledWith(
      expect.objectContaining({ module: 'zones', cameraId, attempt: 1 }),
      'camera cleanup failed; retrying',
    );
  });

  it('always failing: 3 tries, then a warning names the module; the rows remain', async () => {
    const cameraId = prefixedId('cam_');
    await zoneOf(cameraId);
    const spy = jest.spyOn(repo, 'deleteCamera').mockRejectedValue(new Error('disk I/O error'));
    expect(await hooks.cleanUp(cameraId)).toEqual(['zones']);
    expect(spy).toHaveBeenCalledTimes(3);
    expect(warn).toHaveBeenLastCalledWith(
      expect.objectContaining({ module: 'zones', cameraId, attempts: 3, err: expect.any(Error) }),
      'camera cleanup of module zones failed 3 time(s); its rows for the camera remain',
    );
    expect((await repo.forCamera(cameraId)).length).toBe(1);
  });
});
