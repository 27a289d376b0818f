import { SYSTEM_PRINCIPAL, type Principal } from '../auth/principal';
import type { Clock } from '../common/clock';
import type { AuditService } from './audit.service';
import { VIEW_COALESCE_MS, ViewAudit } from './view-audit';

const user = (id: string): Principal => ({ ...SYSTEM_PRINCIPAL, kind: 'user', id, name: id });

describe('ViewAudit', () => {
  let now = 1_000_000;
  const rows: Array<[string, string, string | null, string | null, Record<string, unknown>]> = [];
  const audit = {
    record: (
      p: Principal,
      action: string,
      tt: string | null,
      tid: string | null,
      d: Record<string, unknown>,
    ) => {
      rows.push([`${p.id} ${action}`, action, tt, tid, d]);
      return Promise.resolve();
    },
  } as unknown as AuditService;
  const views = new ViewAudit(audit, { nowMs: () => now } as unknown as Clock);
  const seg = { type: 'recording', id: 'cam/2026-01-10/a.mp4' };

  it.each([
    // [what, viewer, action, camera, target, ms later, written]
    ['the first view is written', 'ann', 'view_segment', 'cam', seg, 0, true],
    ['the same viewer, file and window: coalesced', 'ann', 'view_segment', 'cam', seg, 1000, false],
    ['another viewer of the same file', 'bob', 'view_segment', 'cam', seg, 0, true],
    ['another file', 'ann', 'view_segment', 'cam', { type: 'recording', id: 'cam/b.mp4' }, 0, true],
    ['another action on the camera', 'ann', 'view_snapshot', 'cam', { type: 'camera', id: 'cam' }, 0, true],
    ['still inside the window', 'ann', 'view_segment', 'cam', seg, VIEW_COALESCE_MS - 1001, false],
    ['past the window (from the last row written): a new row', 'ann', 'view_segment', 'cam', seg, 1, true],
  ] as const)('%s', async (_what, viewer, action, camera, target, later, written) => {
    now += later;
    const before = rows.length;
    expect(await views.record(user(viewer), action, camera, target)).toBe(written);
    expect(rows.length - before).toBe(written ? 1 : 0);
    if (written)
      expect(rows[rows.length - 1].slice(1)).toEqual([action, target.type, target.id, { camera_id: camera }]);
  });
});
