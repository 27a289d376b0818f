import { jsonDeeperThan } from './body-limits';

const b = (s: string) => Buffer.from(s, 'utf8');

describe('jsonDeeperThan', () => {
  it('counts object and array nesting, not brackets inside strings', () => {
    expect(jsonDeeperThan(b('{"a":[1,{"b":2}]}'), 3)).toBe(false);
    expect(jsonDeeperThan(b('{"a":[1,{"b":2}]}'), 2)).toBe(true);
    expect(jsonDeeperThan(b(`{"s":"${'['.repeat(100)}"}`), 2)).toBe(false);
    expect(jsonDeeperThan(b('{"s":"a\\"[[[[","t":1}'), 1)).toBe(false); // an escaped quote stays in the string
    expect(jsonDeeperThan(b('['.repeat(65) + ']'.repeat(65)), 64)).toBe(true);
    expect(jsonDeeperThan(b('['.repeat(64) + ']'.repeat(64)), 64)).toBe(false);
    expect(jsonDeeperThan(b(''), 0)).toBe(false);
  });
});
