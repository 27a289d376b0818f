import { forecastBars, niceMax, type Forecast, type ForecastCamera } from './chart';

const cam = (
  id: string,
  retentionH: number,
  daysKept: number | null,
  achievable: boolean | null,
  limitedBy: string,
): ForecastCamera => ({
  camera_id: id,
  name: id.toUpperCase(),
  retention_hours: retentionH,
  write_rate_bytes_per_day: 1,
  days_kept: daysKept,
  retention_achievable: achievable,
  limited_by: limitedBy,
});

describe('retention forecast chart', () => {
  it.each([
    [0, 1],
    [0.4, 1],
    [1, 1],
    [1.2, 2],
    [3, 5],
    [7, 10],
    [14, 20],
    [31, 50],
    [99, 100],
  ])('niceMax(%p) = %p', (x, want) => {
    expect(niceMax(x)).toBe(want);
  });

  it('draws the store row then each camera on one axis; a camera short of its retention is flagged with its limit', () => {
    const f: Forecast = {
      capacity_bytes: 100,
      bound_by: 'cap',
      write_rate_bytes_per_day: 10,
      store_days: 10,
      cameras: [cam('gate', 14 * 24, 6, false, 'cap'), cam('yard', 3 * 24, 4, true, 'retention_hours')],
    };
    const { axisDays, ticks, bars } = forecastBars(f);
    expect(axisDays).toBe(20);
    expect(ticks).toEqual([0, 5, 10, 15, 20]);
    expect(bars.map((b) => [b.id, b.length, b.target, b.verdict])).toEqual([
      ['_store', 0.5, null, 'ok'],
      ['gate', 0.3, 0.7, 'short'],
      ['yard', 0.2, 0.15, 'ok'],
    ]);
    expect(bars[1].note).toBe('6 d of 14 d asked, limited by the recordings cap');
    expect(bars[0].note).toBe("10 d until the cap at today's rate");
  });

  it('a camera without writes has no bar and says so; no capacity known leaves the store row empty', () => {
    const { bars, axisDays } = forecastBars({
      capacity_bytes: null,
      bound_by: null,
      write_rate_bytes_per_day: 0,
      store_days: null,
      cameras: [cam('porch', 48, null, null, 'no_data')],
    });
    expect(axisDays).toBe(2);
    expect(bars.map((b) => [b.id, b.length, b.verdict, b.note])).toEqual([
      ['_store', 0, 'unknown', 'no capacity or no writes known'],
      ['porch', 0, 'unknown', 'no writes in 24 h'],
    ]);
  });

  it('a store that keeps years does not squash the cameras: the axis stops at 3× the longest target', () => {
    const { axisDays, bars } = forecastBars({
      capacity_bytes: 1e15,
      bound_by: 'disk',
      write_rate_bytes_per_day: 1,
      store_days: 3000,
      cameras: [cam('gate', 7 * 24, 7, true, 'retention_hours')],
    });
    expect(axisDays).toBe(50);
    expect(bars[0].length).toBe(1);
    expect(bars[0].note).toBe("3000 d until the disk floor at today's rate");
    expect(bars[1].length).toBeCloseTo(0.14);
  });
});
