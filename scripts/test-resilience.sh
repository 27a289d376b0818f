#!/usr/bin/env bash
# `make test-resilience`: the resilience suite (faults, bad input, load) on SQLite against the built
# kernel. Each figure is written with its pass bar to bench/results.json (section "resilience");
# a failing bar fails its test and this script.
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=$(mktemp -d /tmp/heldar-resilience.XXXXXX)
REPORT="$OUT/jest.json"
trap 'rm -rf "$OUT"' EXIT
status=0
HELDAR_RESILIENCE_DIR="$OUT/figures" DATABASE=sqlite npx jest --ci --selectProjects resilience --runInBand \
  --json --outputFile="$REPORT" || status=$?

node -e '
  const fs = require("fs"), path = require("path");
  const [dir, report, resultsFile] = process.argv.slice(1);
  const sections = {};
  if (fs.existsSync(dir)) for (const f of fs.readdirSync(dir).sort())
    sections[path.basename(f, ".json")] = JSON.parse(fs.readFileSync(path.join(dir, f), "utf8"));
  const figures = Object.values(sections).flatMap((s) => Object.values(s)).filter((x) => "pass" in x);
  const failed = figures.filter((x) => !x.pass).length;
  let results = {};
  try { results = JSON.parse(fs.readFileSync(resultsFile, "utf8")); } catch {}
  results.resilience = { updated_at: new Date().toISOString(), bars: figures.length, bars_failed: failed, ...sections };
  fs.writeFileSync(resultsFile, JSON.stringify(results, null, 2) + "\n");
  for (const [name, s] of Object.entries(sections))
    for (const [k, v] of Object.entries(s))
      console.log(`${"pass" in v ? (v.pass ? "PASS" : "FAIL") : "    "} ${name}.${k} = ${JSON.stringify(v.value)}${v.bar ? ` (bar ${v.bar})` : ""}`);
  const r = fs.existsSync(report) ? JSON.parse(fs.readFileSync(report, "utf8")) : { numPassedTests: 0, numFailedTests: 1 };
  console.log(`resilience: ${r.numPassedTests} passed, ${r.numFailedTests + failed} failed`);
' "$OUT/figures" "$REPORT" bench/results.json
exit $status
