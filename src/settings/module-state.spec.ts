import { announcesChange, sidecarState } from './module-state';
import type { ModuleState } from './entities/module-record.entity';

describe('announcesChange', () => {
  it.each<[ModuleState | null, ModuleState, boolean, boolean]>([
    // one module's change
    ['running', 'running', false, false],
    ['running', 'failed', false, true],
    ['failed', 'running', false, true],
    ['running', 'stopped', false, true],
    ['loaded', 'running', false, true],
    ['stopped', 'loaded', false, true],
    [null, 'loaded', false, false],
    [null, 'running', false, false],
    [null, 'failed', false, true],
    // the kernel's boot / shutdown of every built-in at once
    ['stopped', 'running', true, false],
    [null, 'running', true, false],
    ['running', 'stopped', true, false],
    ['stopped', 'failed', true, true],
    [null, 'failed', true, true],
    ['failed', 'running', true, true],
    ['failed', 'stopped', true, true],
    ['failed', 'failed', true, false],
  ])('%j → %j (bulk %j): %j', (prev, next, bulk, expected) => {
    expect(announcesChange(prev, next, bulk)).toBe(expected);
  });
});

describe('sidecarState', () => {
  it.each([
    ['healthy', 'running'],
    ['unreachable', 'failed'],
    ['unknown', 'loaded'],
  ] as const)('%s → %s', (health, state) => {
    expect(sidecarState(health)).toBe(state);
  });
});
