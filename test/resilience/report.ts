import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** One measured figure of the resilience suite and the bar it must meet. */
export interface Figure {
  value: number;
  /** e.g. "== 0", "<= 5000", ">= 1" */
  bar: string;
  pass: boolean;
  unit?: string;
  note?: string;
}

const OUT = process.env.HELDAR_RESILIENCE_DIR;

function meets(value: number, bar: string): boolean {
  const m = /^(==|<=|>=|<|>)\s*(-?[\d.]+)$/.exec(bar);
  if (!m) throw new Error(`bad bar ${bar}`);
  const limit = Number(m[2]);
  return m[1] === '=='
    ? value === limit
    : m[1] === '<='
      ? value <= limit
      : m[1] === '>='
        ? value >= limit
        : m[1] === '<'
          ? value < limit
          : value > limit;
}

/**
 * Collects a spec's figures and writes them (as `<section>.json` under HELDAR_RESILIENCE_DIR) for
 * `scripts/test-resilience.sh` to merge into bench/results.json. `check` also asserts the bar, so
 * a failing bar fails the test that measured it.
 */
export class Report {
  private readonly figures: Record<string, Figure | Record<string, unknown>> = {};

  constructor(private readonly section: string) {}

  /** Record `value` against `bar` and assert it. */
  check(name: string, value: number, bar: string, extra: { unit?: string; note?: string } = {}): void {
    const pass = meets(value, bar);
    this.figures[name] = { value, bar, pass, ...extra };
    this.flush();
    expect({ figure: `${this.section}.${name}`, value, bar, pass }).toEqual({
      figure: `${this.section}.${name}`,
      value,
      bar,
      pass: true,
    });
  }

  /** A figure reported without a bar (context: counts, durations). */
  info(name: string, value: unknown): void {
    this.figures[name] = { value };
    this.flush();
  }

  private flush(): void {
    if (!OUT) return;
    mkdirSync(OUT, { recursive: true });
    writeFileSync(join(OUT, `${this.section}.json`), JSON.stringify(this.figures, null, 2));
  }
}
