#!/usr/bin/env bash
# Every test tier: lint, type-check, drift checks, unit; medium + e2e on SQLite; then medium + e2e
# again on a throwaway PostgreSQL cluster (started here, stopped on exit whatever happens). The
# browser specs (the console in chromium) run once, on SQLite: they prove nothing engine-specific.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
REPORTS=$(mktemp -d /tmp/heldar-jest.XXXXXX)
trap 'rm -rf "$REPORTS"' EXIT
n=0
# Each jest run leaves a JSON report; the closing line sums them ("N passed, N failed").
jest() { n=$((n + 1)); npx jest --ci --json --outputFile="$REPORTS/$n.json" "$@"; }
JEST=jest

step "lint";            npm run -s lint
step "type-check";      npm run -s typecheck
step "openapi drift";   npm run -s openapi:check
step "unit";            $JEST --selectProjects unit
step "medium + e2e on SQLite"
DATABASE=sqlite $JEST --selectProjects medium e2e browser --maxWorkers=2

step "medium + e2e on PostgreSQL"
read -r PG_URL PG_DIR < <(scripts/pg-test.sh start)
trap 'scripts/pg-test.sh stop "$PG_DIR"; rm -rf "$REPORTS"' EXIT
DATABASE=postgres HELDAR_TEST_PG_URL="$PG_URL" $JEST --selectProjects medium e2e --maxWorkers=2
echo
node -e '
  const fs = require("fs"), dir = process.argv[1];
  let p = 0, f = 0, s = 0;
  for (const file of fs.readdirSync(dir)) {
    const r = JSON.parse(fs.readFileSync(dir + "/" + file, "utf8"));
    p += r.numPassedTests; f += r.numFailedTests; s += r.numPendingTests + (r.numTodoTests || 0);
  }
  console.log(`tests: ${p} passed, ${f} failed` + (s ? `, ${s} skipped` : ""));
' "$REPORTS"
