import 'reflect-metadata';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildOpenApi, createApp } from '../src/app.factory';
import { loadConfig } from '../src/config/heldar-config';

/** Writes the OpenAPI document (`openapi.json <file>`), or with `--check` fails when the committed one drifted. */
async function main(args: string[]): Promise<number> {
  const check = args.includes('--check');
  const file = args.find((a) => !a.startsWith('--')) ?? 'openapi.json';
  const dir = mkdtempSync(join(tmpdir(), 'heldar-openapi-'));
  const app = await createApp(
    loadConfig({
      HELDAR_DATA_DIR: dir,
      HELDAR_DATABASE_URL: `sqlite://${join(dir, 'o.db')}`,
      HELDAR_LOG: 'silent',
    }),
  );
  try {
    const json = JSON.stringify(buildOpenApi(app), null, 2) + '\n';
    if (!check) {
      writeFileSync(file, json);
      console.log(`wrote ${file}`);
      return 0;
    }
    let committed = '';
    try {
      committed = readFileSync(file, 'utf8');
    } catch {
      /* missing counts as drift */
    }
    if (committed !== json) {
      console.error(`${file} is out of date with the code: run \`npm run openapi\` and commit the result`);
      return 1;
    }
    console.log(`${file} is up to date`);
    return 0;
  } finally {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
