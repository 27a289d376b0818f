import { loadConfig } from '../config/heldar-config';
import { MEDIA_JOB_WAIT_MS, MediaJobs } from './media-jobs';

describe('MediaJobs', () => {
  afterEach(() => jest.useRealTimers());

  it('runs at most N jobs; a waiter gets a slot when one ends', async () => {
    const jobs = new MediaJobs(loadConfig({ HELDAR_MEDIA_JOB_CONCURRENCY: '1' }));
    const order: string[] = [];
    let release!: () => void;
    const first = jobs.run(() => new Promise<void>((r) => (release = r)).then(() => order.push('first')));
    const second = jobs.run(async () => order.push('second'));
    await Promise.resolve();
    expect(order).toEqual([]);
    release();
    await Promise.all([first, second]);
    expect(order).toEqual(['first', 'second']);
  });

  it('answers 503 with Retry-After when no slot frees within 10 s', async () => {
    jest.useFakeTimers();
    const jobs = new MediaJobs(loadConfig({ HELDAR_MEDIA_JOB_CONCURRENCY: '1' }));
    void jobs.run(() => new Promise(() => undefined)); // never ends
    const waiting = jobs.run(async () => 'never');
    jest.advanceTimersByTime(MEDIA_JOB_WAIT_MS + 1);
    await expect(waiting).rejects.toMatchObject({
      status: 503,
      code: 'MEDIA_BUSY',
      headers: { 'Retry-After': '5' },
    });
  });
});
