import { defaultWorkerId, parseCli, taskOverrides, UsageError } from './cli';
import { DEFAULT_MOTION } from './motion';
import { DEFAULT_TRACKER } from './tracker';

describe('parseCli', () => {
  it('has working defaults: local kernel, no key, motion tasks, polls paced by each task fps', () => {
    const cfg = parseCli([], {})!;
    expect(cfg).toMatchObject({
      api: 'http://127.0.0.1:8080',
      key: null,
      taskType: 'motion',
      intervalMs: null,
      discoveryMs: 5000,
      motion: DEFAULT_MOTION,
      tracker: DEFAULT_TRACKER,
      verbose: false,
    });
    expect(cfg.workerId).toMatch(/^motion-[A-Za-z0-9_.:-]+$/);
  });

  it('reads every flag, and the key from HELDAR_API_KEY when --key is absent', () => {
    const cfg = parseCli(
      [
        '--api',
        'http://kernel.example:9000/heldar/',
        '--worker-id',
        'w-1',
        '--task-type',
        'motion.v2',
        '--interval-ms',
        '250',
        '--discovery-ms',
        '2000',
        '--threshold',
        '40',
        '--min-area',
        '0.01',
        '--max-distance',
        '0.3',
        '--max-missed',
        '5',
        '--verbose',
      ],
      { HELDAR_API_KEY: 'vok_env' },
    )!;
    expect(cfg).toMatchObject({
      api: 'http://kernel.example:9000/heldar',
      key: 'vok_env',
      workerId: 'w-1',
      taskType: 'motion.v2',
      intervalMs: 250,
      discoveryMs: 2000,
      motion: { threshold: 40, minArea: 0.01 },
      tracker: { maxDistance: 0.3, maxMissed: 5 },
      verbose: true,
    });
    expect(parseCli(['--key', 'vok_flag'], { HELDAR_API_KEY: 'vok_env' })!.key).toBe('vok_flag');
  });

  it('refuses bad input with a usage error naming the flag; --help returns null', () => {
    const bad: Array<[string[], RegExp]> = [
      [['--api', 'ftp://x'], /--api/],
      [['--api', 'not a url'], /--api/],
      [['--worker-id', 'has space'], /--worker-id/],
      [['--interval-ms', '10'], /--interval-ms must be an integer from 50/],
      [['--discovery-ms', '60000'], /--discovery-ms/],
      [['--threshold', '0'], /--threshold/],
      [['--min-area', 'x'], /--min-area/],
      [['--nope'], /nope/],
      [['positional'], /positional/],
    ];
    for (const [argv, why] of bad) {
      expect(() => parseCli(argv, {})).toThrow(UsageError);
      expect(() => parseCli(argv, {})).toThrow(why);
    }
    expect(parseCli(['--help'], {})).toBeNull();
  });

  it('derives a worker id the kernel accepts from any host name', () => {
    expect(defaultWorkerId('cam-box.local')).toBe('motion-cam-box.local');
    expect(defaultWorkerId('höst name')).toBe('motion-h-st-name');
    expect(defaultWorkerId('x'.repeat(100))).toHaveLength(64);
  });
});

describe('taskOverrides', () => {
  const base = { motion: DEFAULT_MOTION, tracker: DEFAULT_TRACKER };
  it('takes valid per-task tuning from the task config and ignores the rest', () => {
    expect(
      taskOverrides({ threshold: 60, min_area: 0.05, max_distance: 0.1, max_missed: 0, colour: 'red' }, base),
    ).toEqual({
      motion: { ...DEFAULT_MOTION, threshold: 60, minArea: 0.05 },
      tracker: { maxDistance: 0.1, maxMissed: 0 },
    });
    expect(taskOverrides({ threshold: 999, min_area: '0.5', max_missed: 1.5 }, base)).toEqual(base);
    expect(taskOverrides(undefined, base)).toEqual(base);
  });
});
