#!/usr/bin/env node
/**
 * Heldar's reference AI worker: motion by frame differencing, tracked by centroid, posted back as
 * `motion` detections that drive the kernel's zone engine.
 *
 *   npm run worker:motion -- --api http://127.0.0.1:8080 --key vok_...
 *   node dist/examples/motion-worker/main.js --api http://127.0.0.1:8080   (after npm run build)
 *
 * SIGINT / SIGTERM stop it gracefully (requests in flight get 5 s); a second signal exits at once.
 */
import { parseCli, USAGE, UsageError } from './cli';
import { consoleLogger, MotionWorker } from './worker';

async function main(): Promise<number> {
  let cfg;
  try {
    cfg = parseCli(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`${err.message}\n\n${USAGE}`);
    return 2;
  }
  if (!cfg) {
    console.log(USAGE);
    return 0;
  }
  const log = consoleLogger(cfg.verbose);
  const worker = new MotionWorker(cfg, log);
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    if (++signals > 1) {
      log.warn(`${sig} again: exiting now`);
      process.exit(130);
    }
    log.info(`${sig}: stopping`);
    void worker.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  await worker.start();
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error('motion worker failed:', err);
    process.exitCode = 1;
  },
);
