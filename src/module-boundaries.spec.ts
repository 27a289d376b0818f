import { join } from 'node:path';
import { Linter, type Rule } from 'eslint';
import tseslint from 'typescript-eslint';

// The rule `npm run lint` runs over src/ (eslint.config.mjs); plain JS so ESLint loads it as is.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { rule } = require('../scripts/eslint-module-boundaries.js') as { rule: Rule.RuleModule };

const root = join(__dirname, '..');
const linter = new Linter({ cwd: root, configType: 'flat' });
const config: Linter.Config[] = [
  {
    files: ['**/*.ts'],
    languageOptions: { parser: tseslint.parser },
    plugins: { heldar: { rules: { 'module-boundaries': rule } } },
    rules: { 'heldar/module-boundaries': 'error' },
  },
];

/** The rule's messages for `code` written in `file` (a path under the repository). */
const lint = (file: string, code: string): string[] =>
  linter.verify(code, config, { filename: join(root, file) }).map((m) => m.message);

describe('dependency rule: no module imports another module’s repository or entities', () => {
  it.each([
    [
      'retention/retention.service.ts',
      "import { TimelineRepository } from '../timeline/timeline.repository';",
      'repository',
    ],
    [
      'retention/retention.service.ts',
      "import type { SegmentUsageRow } from '../timeline/timeline.repository';",
      'repository',
    ],
    [
      'zones/zones.service.ts',
      "import { CameraEntity } from '../cameras/entities/camera.entity';",
      'entities',
    ],
    [
      'recorder/entities/recorder-run.entity.ts',
      "import { CameraEntity } from '../../cameras/entities/camera.entity';",
      'entities',
    ],
    ['ai/dto/ai.dto.ts', "export { CameraEntity } from '../../cameras/entities/camera.entity';", 'entities'],
    ['common/row-retention.ts', "export * from '../timeline/timeline.repository';", 'repository'],
    ['ai/ai.service.ts', "const m = import('../zones/zones.repository');", 'repository'],
  ])('%s: %s is rejected', (file, code, what) => {
    const messages = lint(`src/${file}`, code);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toContain(`the ${what} of`);
    expect(messages[0]).toContain('service');
  });

  it.each([
    [
      'its own repository',
      'timeline/timeline.service.ts',
      "import { TimelineRepository } from './timeline.repository';",
    ],
    [
      'its own entities, from a sub-folder',
      'timeline/dto/timeline.dto.ts',
      "import type { SegmentEntity } from '../entities/segment.entity';",
    ],
    [
      'another module’s service',
      'retention/retention.service.ts',
      "import { TimelineService } from '../timeline/timeline.service';",
    ],
    [
      'another module’s pure logic',
      'exports/exports.service.ts',
      "import { findHoles } from '../timeline/timeline-logic';",
    ],
    ['a package', 'zones/zones.service.ts', "import { Repository } from 'typeorm';"],
    [
      'the composition root',
      'app.entities.ts',
      "import { CameraEntity } from './cameras/entities/camera.entity';",
    ],
  ])('%s is allowed (%s)', (_what, file, code) => {
    expect(lint(`src/${file}`, code)).toEqual([]);
  });

  it.each([
    [
      'its own module’s',
      'timeline/evidence.controller.ts',
      "import { TimelineRepository } from './timeline.repository';",
    ],
    [
      'another module’s',
      'ai/ai.controller.ts',
      "import type { SegmentRow } from '../timeline/timeline.repository';",
    ],
  ])('a controller importing %s repository is rejected', (_what, file, code) => {
    const messages = lint(`src/${file}`, code);
    expect(messages).toEqual([expect.stringContaining('a controller must not import a repository')]);
  });

  it('outside src/ (tests, bench, scripts) it does not apply', () => {
    expect(
      lint(
        'test/medium/x.medium-spec.ts',
        "import { CameraEntity } from '../../src/cameras/entities/camera.entity';",
      ),
    ).toEqual([]);
  });
});
