import { buildRecordArgs } from '../media/ffmpeg-args';
import {
  dayDirName,
  dayStartMs,
  isDayDir,
  parseSegmentListLine,
  parseSegmentName,
  recorderDayDirs,
  segmentDay,
  segmentRelPath,
} from './recording-layout';

const T = Date.UTC(2026, 10, 22, 10, 0, 0);

describe('parseSegmentName', () => {
  it.each([
    ['20261122_100000.mp4', T],
    ['20261122_100000Z.mp4', T],
    ['20261122_100000.mp4.part', null],
    ['20261340_100000.mp4', null],
    ['20261122_250000.mp4', null],
    ['latest.mp4', null],
  ])('%s', (name, expected) => {
    expect(parseSegmentName(name)).toBe(expected);
  });
});

describe('day folders', () => {
  it.each([
    [Date.UTC(2026, 11, 2, 0, 0, 0), '2026-12-02'],
    [Date.UTC(2026, 11, 2, 23, 59, 59, 999), '2026-12-02'],
    [Date.UTC(2026, 11, 31, 23, 59, 59), '2026-12-31'],
    [Date.UTC(2027, 0, 1, 0, 0, 0), '2027-01-01'],
  ])('dayDirName(%d) = %s', (ms, day) => {
    expect(dayDirName(ms)).toBe(day);
    expect(isDayDir(day)).toBe(true);
    expect(dayStartMs(day)).toBeLessThanOrEqual(ms);
  });

  it.each([
    ['2026-12-02', true],
    ['2026-02-30', false],
    ['2026-13-01', false],
    ['20261202', false],
    ['2026-12-02.bak', false],
    ['..', false],
  ])('isDayDir(%s) = %s', (name, expected) => {
    expect(isDayDir(name)).toBe(expected);
  });

  it.each([
    ['cam', '20261202_235959.mp4', 'cam/2026-12-02/20261202_235959.mp4'],
    ['cam', '20261203_000000.mp4', 'cam/2026-12-03/20261203_000000.mp4'],
    ['cam', 'notes.txt', null],
    ['cam', '20261202_235959.mp4.part', null],
  ])('segmentRelPath(%s, %s) = %s', (cam, name, expected) => {
    expect(segmentRelPath(cam, name)).toBe(expected);
  });

  it.each([
    // the clock is injected: a recorder started at 23:59:59 already has tomorrow's folder
    [Date.UTC(2026, 11, 2, 12, 0, 0), ['2026-12-02', '2026-12-03']],
    [Date.UTC(2026, 11, 2, 23, 59, 59), ['2026-12-02', '2026-12-03']],
    [Date.UTC(2026, 11, 3, 0, 0, 0), ['2026-12-03', '2026-12-04']],
    [Date.UTC(2026, 11, 31, 23, 59, 59), ['2026-12-31', '2027-01-01']],
    [Date.UTC(2028, 1, 28, 23, 0, 0), ['2028-02-28', '2028-02-29']],
  ])('recorderDayDirs(%d) = %j', (now, days) => {
    expect(recorderDayDirs(now)).toEqual(days);
  });
});

describe('parseSegmentListLine', () => {
  it.each([
    ['20261202_034532.mp4,0.000000,2.000000', { name: '20261202_034532.mp4', startS: 0, endS: 2 }],
    ['20261202_034540.mp4,8.000000,8.800000\r', { name: '20261202_034540.mp4', startS: 8, endS: 8.8 }],
    ['/rec/cam/20261202_034532.mp4,0.0,2.0', null],
    ['"20261202_034532.mp4",0.0,2.0', null],
    ['20261202_034532.mp4,0.0', null],
    ['20261202_034532.mp4,a,2.0', null],
    ['20261202_034532.mp4,,2.0', null],
    ['20261202_034532.mp4,3.0,2.0', null],
    ['notes.txt,0.0,2.0', null],
    ['', null],
  ])('%j → %j', (line, expected) => {
    expect(parseSegmentListLine(line)).toEqual(expected);
  });
});

describe('the pattern the recorder hands ffmpeg', () => {
  // ffmpeg's strftime (TZ=UTC) expands the recorder's output pattern; what it writes must be what
  // the layout reads back: the day folder and the name of the same instant.
  const strftime = (pattern: string, ms: number) => {
    const d = new Date(ms);
    const p = (n: number) => String(n).padStart(2, '0');
    return pattern
      .replace(/%Y/g, String(d.getUTCFullYear()))
      .replace(/%m/g, p(d.getUTCMonth() + 1))
      .replace(/%d/g, p(d.getUTCDate()))
      .replace(/%H/g, p(d.getUTCHours()))
      .replace(/%M/g, p(d.getUTCMinutes()))
      .replace(/%S/g, p(d.getUTCSeconds()));
  };

  it.each([
    Date.UTC(2026, 11, 2, 23, 59, 59),
    Date.UTC(2027, 0, 1, 0, 0, 0),
    Date.UTC(2028, 1, 29, 12, 30, 5),
  ])('%d: folder and name agree with segmentRelPath', (ms) => {
    const args = buildRecordArgs({ url: 'rtsp://cam/stream', recordAudio: false, segmentSeconds: 10 }, 'cam');
    const written = strftime(args[args.length - 1], ms);
    const name = written.slice(written.lastIndexOf('/') + 1);
    expect(parseSegmentName(name)).toBe(ms);
    expect(segmentDay(name)).toBe(dayDirName(ms));
    expect(segmentRelPath('cam', name)).toBe(written);
  });
});
