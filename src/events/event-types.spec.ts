import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { eventFamily, KERNEL_EVENT_PREFIXES, KERNEL_EVENT_TYPES, reservedEventType } from './event-types';

/** Every `.ts` file under `dir` (specs excluded). */
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sources(p);
    return p.endsWith('.ts') && !p.endsWith('.spec.ts') ? [p] : [];
  });
}

describe('the kernel event-type registry', () => {
  it.each(Object.keys(KERNEL_EVENT_TYPES))('%s is reserved, and so is its family', (type) => {
    expect(reservedEventType(type)).toMatch(/kernel/);
    const family = eventFamily(type);
    expect(family).not.toBeNull();
    expect(KERNEL_EVENT_PREFIXES).toContain(family);
    expect(reservedEventType(`${family}anything_else`)).toBe(`\`${family}\` is a kernel prefix`);
  });

  it.each([
    ['storage_error', /kernel event type/],
    ['recorder_error', /kernel event type/],
    ['storage_full', /`storage_` is a kernel prefix/],
    ['recorder_restarted', /`recorder_` is a kernel prefix/],
    ['camera_tampered', /`camera_` is a kernel prefix/],
    ['zone_enter', /kernel event type/],
    ['webhook_test', /kernel event type/],
    ['module_anything', /`module_`/],
    ['system_notice', /`system_`/],
    ['gate_opened', /`gate_`/],
    ['raid_degraded', /`raid_`/],
    ['disk_pressure', /kernel event type/],
    ['sampler_offline', /kernel event type/],
  ])('%s is refused (%s)', (type, why) => {
    expect(reservedEventType(type)).toMatch(why);
  });

  it.each(['person_counted', 'motion', 'door_open', 'cameraman_seen', 'zones', 'storage'])(
    '%s is a worker type',
    (type) => {
      expect(reservedEventType(type)).toBeNull();
    },
  );

  it('holds every type the kernel emits by name (so none escapes the reserved families)', () => {
    const root = join(__dirname, '..');
    const emitted = new Set<string>();
    for (const file of sources(root)) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/\.emit\(\s*\{\s*type:\s*'([a-z0-9_]+)'/g)) emitted.add(m[1]);
      for (const m of text.matchAll(/eventType:\s*'([a-z0-9_]+)'/g)) emitted.add(m[1]);
    }
    expect(emitted.size).toBeGreaterThan(10);
    expect([...emitted].filter((t) => !(t in KERNEL_EVENT_TYPES))).toEqual([]);
  });
});
