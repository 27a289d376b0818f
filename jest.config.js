/** Three tiers (CONVENTIONS.md): unit (pure logic), medium (services on a real migrated
 * database: SQLite, or PostgreSQL when DATABASE=postgres), e2e (the real server over HTTP
 * with real ffmpeg and the RTSP test camera). Type-checking is `npm run typecheck`, so
 * ts-jest only transpiles here. */
const transform = { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.test.json' }] };
/** The browser specs: their own project, run on one engine only. */
const BROWSER = '/test/e2e/console[^/]*\\.e2e-spec\\.ts$';
const common = {
  testEnvironment: 'node',
  transform,
  moduleFileExtensions: ['ts', 'js', 'json'],
  modulePathIgnorePatterns: ['<rootDir>/dist/'],
};
module.exports = {
  // Jest reads testTimeout only at the top level (not per project).
  testTimeout: 120000,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/examples/**/*.spec.ts', '<rootDir>/web/**/*.spec.ts'] },
    { ...common, displayName: 'medium', testMatch: ['<rootDir>/test/medium/**/*.medium-spec.ts'], },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.e2e-spec.ts'], testPathIgnorePatterns: [BROWSER] },
    // The console in a real browser (test/e2e/console*.e2e-spec.ts): what it proves does not depend
    // on the database engine, so `make test` runs it once, on SQLite (scripts/test-all.sh).
    { ...common, displayName: 'browser', testMatch: ['<rootDir>/test/e2e/**/console*.e2e-spec.ts'], },
    // `make test-resilience`: faults, bad input and load, each figure with its pass bar.
    { ...common, displayName: 'resilience', testMatch: ['<rootDir>/test/resilience/**/*.resilience-spec.ts'], },
  ],
};
