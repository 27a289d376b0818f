import { isTimeZone, serverTimeZone } from './time-zone';

describe('isTimeZone', () => {
  it.each([
    ['UTC', true],
    ['Europe/Berlin', true],
    ['America/Argentina/Buenos_Aires', true],
    ['Mars/Olympus', false],
    ['', false],
    ['Europe/Berlin ', false],
  ])('%j → %s', (tz, want) => expect(isTimeZone(tz)).toBe(want));

  it('the server zone is one', () => {
    expect(isTimeZone(serverTimeZone())).toBe(true);
  });
});
