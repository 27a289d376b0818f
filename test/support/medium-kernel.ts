import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { Test, type TestingModule } from '@nestjs/testing';
import { AppModule } from '../../src/app.module';
import { SYSTEM_PRINCIPAL } from '../../src/auth/principal';
import { CamerasService } from '../../src/cameras/cameras.service';
import type { CreateCameraDto } from '../../src/cameras/dto/camera.dto';
import { RetentionService } from '../../src/retention/retention.service';
import { IndexerService } from '../../src/timeline/indexer.service';
import { TimelineService } from '../../src/timeline/timeline.service';
import { createTestStore, sharedTestStore, type TestStore } from './test-db';

/**
 * The kernel's services on a real migrated store, without an HTTP server (the medium tier): the
 * loops that would race a test (indexer, retention) run rarely; tests drive them. Each test makes
 * its own cameras (`uniqueCamera`) so that no test depends on another's rows.
 */
export interface MediumKernel {
  mod: TestingModule;
  store: TestStore;
  get<T>(type: new (...args: never[]) => T): T;
  /** A camera with a fresh id (`prefix_<8 hex>`). */
  uniqueCamera(prefix: string, extra?: Partial<CreateCameraDto>): Promise<string>;
  /** `count` real 2 s segment files of `cameraId`, 10 s apart, the last ending `endAgoMs` ago; indexed. */
  record(cameraId: string, count: number, endAgoMs?: number): Promise<Array<RecordedSegment>>;
  close(): Promise<void>;
}

export interface RecordedSegment {
  id: string;
  file: string;
  startTime: string;
  endTime: string;
  sizeBytes: number;
}

const fileName = (ms: number) =>
  new Date(ms).toISOString().replace(/[-:]/g, '').replace('T', '_').slice(0, 15) + '.mp4';

/** A real 2-second H.264 MP4 (made once per store). */
export function sampleSegment(dir: string): string {
  const file = join(dir, 'sample-2s.mp4');
  if (!existsSync(file)) {
    execFileSync('ffmpeg', [
      '-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=10:duration=2',
      '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '10', '-pix_fmt', 'yuv420p', '-y', file,
    ]); // prettier-ignore
  }
  return file;
}

/** `sharedWith`: another cluster node on that kernel's database (PostgreSQL), its own data dir. */
export async function startMediumKernel(
  env: Record<string, string> = {},
  sharedWith?: TestStore,
): Promise<MediumKernel> {
  const vars = { HELDAR_INDEXER_INTERVAL_S: '3600', HELDAR_RETENTION_INTERVAL_S: '86400', ...env };
  const store = sharedWith ? sharedTestStore(sharedWith, vars) : await createTestStore(vars);
  const mod = await Test.createTestingModule({ imports: [AppModule.register(store.config)] }).compile();
  await mod.init();
  // The boot sweep starts at once: let it finish so that it cannot take what a test places.
  await mod.get(RetentionService).sweep();
  const sample = sampleSegment(store.dataDir);
  return {
    mod,
    store,
    get: (type) => mod.get(type),
    async uniqueCamera(prefix, extra = {}) {
      const id = `${prefix}_${randomBytes(4).toString('hex')}`;
      await mod.get(CamerasService).create(SYSTEM_PRINCIPAL, { id, name: id, segment_seconds: 2, ...extra });
      return id;
    },
    async record(cameraId, count, endAgoMs = 600_000) {
      const dir = join(store.config.recordingsDirAbs, cameraId);
      mkdirSync(dir, { recursive: true });
      const lastEnd = Math.floor((Date.now() - endAgoMs) / 1000) * 1000;
      for (let i = 0; i < count; i++) {
        const end = lastEnd - (count - 1 - i) * 10_000;
        const p = join(dir, fileName(end - 2000));
        copyFileSync(sample, p);
        utimesSync(p, end / 1000, end / 1000);
      }
      await mod.get(IndexerService).scanCamera(cameraId);
      const rows = await mod
        .get(TimelineService)
        .segmentsForExport(cameraId, new Date(0).toISOString(), new Date(Date.now() + 60_000).toISOString());
      return rows.map((r) => ({
        id: r.id,
        file: r.file,
        startTime: r.startTime,
        endTime: r.endTime,
        sizeBytes: r.sizeBytes,
      }));
    },
    async close() {
      await mod.close();
      await store.cleanup();
    },
  };
}
