import { prefixedId, slugify, uuidv7 } from './ids';

describe('uuidv7', () => {
  it('is a version-7 RFC 9562 UUID', () => {
    expect(uuidv7()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('sorts in creation order, even within one millisecond', () => {
    const ids = Array.from({ length: 5000 }, () => uuidv7());
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('prefixes', () => {
    expect(prefixedId('seg_')).toMatch(/^seg_[0-9a-f]{32}$/);
  });
});

describe('slugify', () => {
  it.each([
    ['Front Door', 'front_door'],
    ['  --Lobby #2-- ', 'lobby_2'],
    ['Café Entrée', 'cafe_entree'],
    ['!!!', 'camera'],
    ['', 'camera'],
    ['ALREADY_slug_1', 'already_slug_1'],
  ])('%j → %s', (input, expected) => {
    expect(slugify(input)).toBe(expected);
  });

  it('caps the length at 64', () => {
    expect(slugify('a'.repeat(100))).toHaveLength(64);
  });
});
