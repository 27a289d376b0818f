import { type TestApp, waitFor } from '../support/test-app';
import type { Report } from './report';

/** ffmpeg's own start (the input probe) and the indexer's cadence, on top of backoff + a first segment. */
export const SLACK_S = 4;

interface KernelEvent {
  seq: number;
  timestamp: string;
  payload: { restart_in_seconds: number | null };
}

export interface FaultSpec {
  t: TestApp;
  report: Report;
  cameraId: string;
  segmentS: number;
  /** Prefix of the figures. */
  name: string;
  breakIt: () => unknown;
  heal: () => unknown;
  /** How long the fault lasts (from the break). */
  holdMs: number;
  /** The event the recorder must raise, and the one it must NOT raise for this fault. */
  event: 'camera_offline' | 'storage_error';
  wrongEvent: 'camera_offline' | 'storage_error';
  detectWithinS: number;
  /** The recording gap's expected cause. */
  cause: string;
}

/**
 * One fault against a recording camera, measured: break the source or the storage, hold it, heal
 * it. Figures: when the recorder noticed, how many attempts it made meanwhile (backoff, never a
 * tight loop), how long after the heal it recorded again against the bound it announced (its last
 * restart delay + a first segment, about twice a segment + slack), and the gap's cause.
 */
export async function measureFault(f: FaultSpec): Promise<{ state: string; lastError: string | null }> {
  const { t, report, cameraId: id, name } = f;
  const recordedAfter = (sinceMs: number, timeoutMs: number, what: string) =>
    waitFor(
      async () => {
        const segs = (
          await t
            .http()
            .get(`/api/v1/cameras/${id}/segments?from=${new Date(sinceMs).toISOString()}`)
            .expect(200)
        ).body as Array<{ start_time: string }>;
        return segs.find((s) => Date.parse(s.start_time) > sinceMs) ? Date.now() : null;
      },
      timeoutMs,
      `${name}: ${what}`,
    );
  const eventsSince = async (seq: number, type: string) =>
    (
      await t
        .http()
        .get(`/api/v1/events?camera_id=${id}&event_type=${type}&since_seq=${seq}&limit=1000`)
        .expect(200)
    ).body as KernelEvent[];

  await recordedAfter(Date.now() - 1000, 30_000, 'recording before the fault');
  const seq =
    ((await t.http().get('/api/v1/events?limit=1').expect(200)).body as Array<{ seq: number }>)[0]?.seq ?? 0;
  const brokeAt = Date.now();
  await f.breakIt();
  const first = await waitFor(
    async () => (await eventsSince(seq, f.event))[0],
    f.detectWithinS * 1000 + 5000,
    `${name}: ${f.event}`,
  );
  const health = (await t.http().get(`/api/v1/cameras/${id}/health`).expect(200)).body as {
    state: string;
    last_error: string | null;
  };
  await new Promise((r) => setTimeout(r, Math.max(0, f.holdMs - (Date.now() - brokeAt))));
  const during = await eventsSince(seq, f.event);
  const healedAt = Date.now();
  await f.heal();
  const backoffS = Math.max(...during.map((e) => e.payload.restart_in_seconds ?? 0));
  // The first segment of a run is about twice as long (ffmpeg buffers its input probe).
  const boundS = backoffS + 2 * f.segmentS + SLACK_S;
  const recoveredAt = await recordedAfter(healedAt, (boundS + 20) * 1000, 'recording after the heal');
  const recoveryS = Math.round((recoveredAt - healedAt) / 100) / 10;
  const gap = await waitFor(
    async () =>
      (
        (await t.http().get(`/api/v1/cameras/${id}/recording-gaps`).expect(200)).body as Array<{
          gap_start: string;
          gap_end: string;
          gap_seconds: number;
          cause: string;
        }>
      ).find((g) => Date.parse(g.gap_end) > brokeAt && Date.parse(g.gap_start) < healedAt + 1000),
    10_000,
    `${name}: the recording gap`,
  );
  const wrong = await eventsSince(seq, f.wrongEvent);
  report.info(`${name}_held_s`, Math.round(f.holdMs / 1000));
  report.info(
    `${name}_restart_delays_s`,
    during.map((e) => e.payload.restart_in_seconds),
  );
  report.info(`${name}_gap_seconds`, gap.gap_seconds);
  report.check(
    `${name}_detected_s`,
    Math.round((Date.parse(first.timestamp) - brokeAt) / 100) / 10,
    `<= ${f.detectWithinS}`,
  );
  // Backoff doubles from 1 s: over the hold at most log2(hold) + 2 attempts.
  report.check(
    `${name}_attempts_while_broken`,
    during.length,
    `<= ${Math.ceil(Math.log2(Math.max(1, f.holdMs / 1000))) + 2}`,
  );
  report.check(`${name}_reported_as_${f.wrongEvent}`, wrong.length, '== 0');
  report.check(`${name}_recovery_s_over_bound`, Math.round((recoveryS - boundS) * 10) / 10, '<= 0', {
    note: `recording again ${recoveryS} s after the heal; bound ${boundS} s = last backoff ${backoffS} + first segment ${2 * f.segmentS} + ${SLACK_S}`,
  });
  report.check(`${name}_gap_cause_${f.cause}`, gap.cause === f.cause ? 1 : 0, '== 1', { note: gap.cause });
  return { state: health.state, lastError: health.last_error };
}
