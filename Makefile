# Heldar — the two commands: `make run` and `make test`. Each installs what is missing first.
SHELL := /bin/bash
export SCARF_ANALYTICS := false
export npm_config_fund := false
export npm_config_audit := false

.PHONY: run test test-resilience build deps system-deps test-system-deps openapi bench clean

run: system-deps deps build
	node dist/heldar.js

test: test-system-deps deps build
	bash scripts/test-all.sh

# Faults, bad input and load against the built kernel; figures → bench/results.json ("resilience").
test-resilience: test-system-deps deps build
	bash scripts/test-resilience.sh

build: deps
	npm run -s build

# npm ci only when package-lock.json changed since the last install.
deps: node_modules/.heldar-installed
node_modules/.heldar-installed: package-lock.json package.json
	npm ci --no-audit --no-fund
	@touch $@

system-deps:
	@bash scripts/install-system-deps.sh run

test-system-deps:
	@bash scripts/install-system-deps.sh test

openapi: deps
	npm run -s openapi

bench: deps
	npm run -s bench

clean:
	rm -rf dist node_modules
