import { readCookie } from './tokens';

describe('readCookie', () => {
  it.each<[string | undefined, string | undefined]>([
    [undefined, undefined],
    ['', undefined],
    ['heldar_session=vos_abc', 'vos_abc'],
    ['a=1; heldar_session=vos_abc; b=2', 'vos_abc'],
    ['heldar_session=a%20b', 'a b'],
    // Malformed percent-encoding is kept as sent (a wrong credential, not a crash).
    ['heldar_session=%', '%'],
    ['heldar_session=%E0%A4%A', '%E0%A4%A'],
    ['heldar_session=%zz; other=1', '%zz'],
    // The first of repeated names wins.
    ['heldar_session=%; heldar_session=vos_abc', '%'],
    ['heldar_session=vos_abc; heldar_session=%', 'vos_abc'],
    ['xheldar_session=vos_abc', undefined],
    ['heldar_session', undefined],
  ])('%p → %p', (header, value) => {
    expect(readCookie(header, 'heldar_session')).toBe(value);
  });
});
