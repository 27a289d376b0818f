import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The console's palette (style.css `:root`) is readable: every text colour on every surface meets
 * WCAG 2.x AA for normal text (contrast ratio ≥ 4.5). */
const css = readFileSync(join(__dirname, '..', '..', 'web', 'src', 'style.css'), 'utf8');
const root = /:root\s*{([^}]*)}/.exec(css)![1];
const vars = new Map([...root.matchAll(/--([a-z-]+):\s*(#[0-9a-fA-F]{6})\s*;/g)].map((m) => [m[1], m[2]]));

/** WCAG relative luminance of `#rrggbb`. */
function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

describe('console palette contrast', () => {
  it('computes WCAG ratios (white on black is 21, a colour on itself 1)', () => {
    expect(contrast('#ffffff', '#000000')).toBeCloseTo(21, 5);
    expect(contrast('#777777', '#777777')).toBe(1);
    expect(contrast('#767676', '#ffffff')).toBeGreaterThanOrEqual(4.5); // the classic AA grey
  });

  const surfaces = ['bg', 'panel'];
  const texts = ['fg', 'muted', 'accent', 'ok', 'bad', 'warn'];
  it('declares every colour it checks', () => {
    for (const name of [...surfaces, ...texts]) expect(vars.get(name)).toMatch(/^#[0-9a-fA-F]{6}$/);
  });
  for (const s of surfaces)
    for (const t of texts)
      it(`--${t} on --${s} reaches 4.5:1`, () => {
        expect(contrast(vars.get(t)!, vars.get(s)!)).toBeGreaterThanOrEqual(4.5);
      });
});
