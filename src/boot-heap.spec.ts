import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { transpileModule } from 'typescript';
import { operatorSizesYoungGeneration } from './boot-heap';

describe('operatorSizesYoungGeneration', () => {
  it.each([
    [[], '', false],
    [['--enable-source-maps'], '--max-old-space-size=512', false],
    [['--max-semi-space-size=8'], '', true],
    [['--max_semi_space_size=8'], '', true],
    [[], '--inspect --semi-space-growth-factor=4', true],
    [['--min-semi-space-size=2'], undefined, true],
  ])('execArgv %p, NODE_OPTIONS %p → %p', (argv, options, expected) => {
    expect(operatorSizesYoungGeneration(argv, options)).toBe(expected);
  });
});

const MIB = 1024 * 1024;

/** The module run in a fresh Node process (the jest worker's heap has long grown), reporting
 * the new space's size at start, after ~30 MB of surviving allocations while held, and after
 * as many more once released. */
function youngGeneration(nodeArgs: string[]): { start: number; held: number; released: number } {
  const js = transpileModule(readFileSync(join(__dirname, 'boot-heap.ts'), 'utf8'), {
    compilerOptions: { module: 1 /* CommonJS */, target: 9 /* ES2022 */ },
  }).outputText;
  const script = `
    const m = { exports: {} };
    new Function('module', 'exports', 'require', ${JSON.stringify(js)})(m, m.exports, require);
    const v8 = require('node:v8');
    const size = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size;
    const survive = (keep) => { for (let i = 0; i < 400000; i++) keep.push({ i, s: 'x' + i }); return keep; };
    const start = size();
    const release = m.exports.holdYoungGeneration();
    const a = survive([]);
    const held = size();
    release();
    const b = survive([]);
    process.stdout.write(JSON.stringify({ start, held, released: size(), n: a.length + b.length }));`;
  const r = spawnSync(process.execPath, [...nodeArgs, '-e', script], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH },
  });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as { start: number; held: number; released: number };
}

describe('holdYoungGeneration', () => {
  it('keeps the new space at its starting size while held; V8 grows it again once released', () => {
    const r = youngGeneration([]);
    // V8 starts its new space at 1 MiB (two semi-spaces) and may settle it at the 2 MiB minimum;
    // unheld, ~30 MB of survivors take it to 16 MiB or more.
    expect(r.held).toBeLessThanOrEqual(2 * MIB);
    expect(r.released).toBeGreaterThan(2 * r.held);
  });

  it("leaves the operator's own young-generation flags in charge", () => {
    const r = youngGeneration(['--max-semi-space-size=8']);
    expect(r.held).toBeGreaterThan(2 * MIB);
  });
});
