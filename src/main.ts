import 'reflect-metadata';
import { config as loadDotenv } from 'dotenv';
import { createApp } from './app.factory';
import { codeCacheState, READY_EVENT } from './code-cache';
import { createRootLogger } from './common/logger';
import { ConfigError, loadConfig } from './config/heldar-config';
import { KERNEL_VERSION } from './version';

async function main(): Promise<void> {
  loadDotenv({ quiet: true });
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`heldar: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = createRootLogger(config.logLevel);
  const loopback = ['127.0.0.1', '::1', 'localhost'].includes(config.apiHost);
  if (!config.authEnabled && !loopback) {
    log.warn(
      `AUTH IS DISABLED and the API binds ${config.apiHost}: anyone who can reach port ${config.apiPort} is an admin. ` +
        'Set HELDAR_AUTH_ENABLED=true or HELDAR_API_HOST=127.0.0.1.',
    );
  }
  const app = await createApp(config, { logger: log });
  // Graceful stop: children stopped (q → SIGTERM → SIGKILL), module records written, DB closed.
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log.info(`${signal}: shutting down`);
    const force = setTimeout(() => {
      log.error('shutdown took longer than 30 s; exiting anyway');
      process.exit(1);
    }, 30_000);
    force.unref();
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  await app.listen(config.apiPort, config.apiHost);
  log.debug(`code cache: ${codeCacheState()}`);
  (process as NodeJS.EventEmitter).emit(READY_EVENT);
  const shown = config.apiHost === '0.0.0.0' || config.apiHost === '::' ? 'localhost' : config.apiHost;
  log.info(`Heldar ${KERNEL_VERSION} listening on http://${shown}:${config.apiPort}`);
  log.info(`API docs (Swagger UI): http://${shown}:${config.apiPort}/docs  ·  OpenAPI JSON: /openapi.json`);
  process.stdout.write(`\nHeldar is running — Swagger UI: http://${shown}:${config.apiPort}/docs\n\n`);
}

main().catch((err: unknown) => {
  // A refusal (another kernel holds this node or database file, another secret key than the
  // cluster's) is a message for the operator, not a bug.
  const refused =
    err instanceof Error && (err.name === 'NodeClaimRefused' || err.name === 'SecretKeyMismatch');
  process.stderr.write(
    `heldar: failed to start: ${err instanceof Error ? (refused ? err.message : (err.stack ?? err.message)) : String(err)}\n`,
  );
  process.exit(1);
});
