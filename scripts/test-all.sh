#!/usr/bin/env bash
# Every test tier: lint, type-check, drift checks, unit; medium + e2e on SQLite; then medium + e2e
# again on a throwaway PostgreSQL cluster (started here, stopped on exit whatever happens).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
JEST="npx jest --ci"

step "lint";            npm run -s lint
step "type-check";      npm run -s typecheck
step "openapi drift";   npm run -s openapi:check
step "unit";            $JEST --selectProjects unit
step "medium + e2e on SQLite"
DATABASE=sqlite $JEST --selectProjects medium e2e --maxWorkers=2

step "medium + e2e on PostgreSQL"
read -r PG_URL PG_DIR < <(scripts/pg-test.sh start)
trap 'scripts/pg-test.sh stop "$PG_DIR"' EXIT
DATABASE=postgres HELDAR_TEST_PG_URL="$PG_URL" $JEST --selectProjects medium e2e --maxWorkers=2
echo
echo "all tests passed"
