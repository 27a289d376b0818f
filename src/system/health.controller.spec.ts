import { Test } from '@nestjs/testing';
import type { Response } from 'express';
import { CamerasService } from '../cameras/cameras.service';
import { CameraOwnership } from '../cluster/camera-leases.ownership';
import { HeldarConfig } from '../config/heldar-config';
import { DatabaseService } from '../database/database.service';
import { RecorderService } from '../recorder/recorder.service';
import { HealthController } from './health.controller';

/** /readyz with HELDAR_READYZ_MIN_RECORDING_PERCENT=90 over four cameras that should record, on a
 * node that holds `held` of them (`all`: a single node), sees `unleased` held by no node, has room
 * for more or not, and whose recorders record `recording`. */
async function readyz(
  held: string[] | 'all',
  recording: string[],
  cluster: { unleased?: string[]; room?: boolean } = {},
) {
  const ownership = {
    owns: (id: string) => held === 'all' || held.includes(id),
    hasRoom: () => cluster.room ?? true,
    unleased: (ids: readonly string[]) => Promise.resolve(ids.filter((id) => cluster.unleased?.includes(id))),
  };
  const mod = await Test.createTestingModule({
    controllers: [HealthController],
    providers: [
      { provide: DatabaseService, useValue: { ping: () => Promise.resolve(true) } },
      {
        provide: CamerasService,
        useValue: { listRecordingExpectedIds: () => Promise.resolve(['a', 'b', 'c', 'd']) },
      },
      {
        provide: RecorderService,
        useValue: { statusSnapshot: () => recording.map((cameraId) => ({ cameraId, state: 'recording' })) },
      },
      { provide: CameraOwnership, useValue: ownership },
      { provide: HeldarConfig, useValue: { readyzMinRecordingPercent: 90, recorderEnabled: true } },
    ],
  }).compile();
  let status = 200;
  const res = {
    status(code: number) {
      status = code;
      return this;
    },
    setHeader: () => undefined,
  } as unknown as Response;
  const body = await mod.get(HealthController).readyz(res);
  return { status, body };
}

describe('/readyz counts the cameras this node records', () => {
  it('a cluster node recording its whole share (2 of 4 cameras, the others held elsewhere) is ready', async () => {
    expect(await readyz(['a', 'b'], ['a', 'b'])).toEqual({
      status: 200,
      body: { ready: true, recording_pct: 100, required_pct: 90 },
    });
  });

  it('a cluster node with one of its two cameras down is not', async () => {
    expect(await readyz(['a', 'b'], ['a'])).toEqual({
      status: 503,
      body: { ready: false, reason: 'insufficient_recorders', recording_pct: 50, required_pct: 90 },
    });
  });

  it('a camera no node holds yet counts on a node with room for it, not on a full one', async () => {
    expect((await readyz(['a', 'b'], ['a', 'b'], { unleased: ['d'] })).body).toMatchObject({
      ready: false,
      recording_pct: 66.7,
    });
    expect((await readyz(['a', 'b'], ['a', 'b'], { unleased: ['d'], room: false })).body).toMatchObject({
      ready: true,
      recording_pct: 100,
    });
  });

  it('a single node (it holds every camera) counts all four, as before', async () => {
    expect((await readyz('all', ['a', 'b'])).body).toMatchObject({ ready: false, recording_pct: 50 });
    expect((await readyz('all', ['a', 'b', 'c', 'd'])).body).toMatchObject({
      ready: true,
      recording_pct: 100,
    });
  });
});
