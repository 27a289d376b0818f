import { ensureDayDirs } from './recorder-listener';

describe('ensureDayDirs (the midnight folder, injected clock)', () => {
  it.each([
    [
      'a recorder started at 23:59:59 has tomorrow’s folder before midnight',
      Date.UTC(2026, 11, 2, 23, 59, 59),
      ['2026-12-02', '2026-12-03'],
    ],
    ['noon', Date.UTC(2026, 11, 2, 12, 0, 0), ['2026-12-02', '2026-12-03']],
    ['new year’s eve', Date.UTC(2026, 11, 31, 23, 30, 0), ['2026-12-31', '2027-01-01']],
    ['just past midnight', Date.UTC(2026, 11, 3, 0, 0, 1), ['2026-12-03', '2026-12-04']],
  ])('%s', async (_label, now, days) => {
    const made: string[] = [];
    const storage = { ensureDir: (d: string) => Promise.resolve(void made.push(d)) };
    expect(await ensureDayDirs(storage, '/rec/cam', now)).toEqual(days);
    expect(made).toEqual(days.map((d) => `/rec/cam/${d}`));
  });
});
