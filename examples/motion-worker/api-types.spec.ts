import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const ROOT = join(__dirname, '..', '..');
const TYPES = 'examples/motion-worker/api-types.ts';
/** The one command that writes api-types.ts (run it from the repository root after `npm run openapi`). */
const REGENERATE = `npm run openapi (or: npx openapi-typescript openapi.json --empty-objects-unknown -o ${TYPES})`;

describe('the worker’s typed client', () => {
  it('api-types.ts is what openapi-typescript makes of the committed openapi.json', async () => {
    // The CLI prints to stdout when no -o is given: nothing is written here (~2 s).
    const cli = join(ROOT, 'node_modules', 'openapi-typescript', 'bin', 'cli.js');
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [cli, 'openapi.json', '--empty-objects-unknown'],
      { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 },
    );
    const committed = readFileSync(join(ROOT, TYPES), 'utf8');
    if (stdout !== committed) {
      throw new Error(`${TYPES} is stale (openapi.json changed). Regenerate it: ${REGENERATE}`);
    }
  });
});
