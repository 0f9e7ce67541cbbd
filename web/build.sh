#!/usr/bin/env bash
# Bundles the chat demo (demo/app.js and the official wukongimjssdk) into
# dist/demo.js, which the jindou binary embeds (package web). Installs the
# pinned npm packages first when they are missing, or always with --ci
# (npm ci). Used by `make web`, hence by `make build`, `make run`, `make e2e`.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
if [ "${1:-}" = "--ci" ] || [ ! -x node_modules/.bin/esbuild ] || [ ! -d node_modules/wukongimjssdk ]; then
	npm ci --no-audit --no-fund --loglevel=error >&2
fi
node_modules/.bin/esbuild demo/app.js --bundle --platform=browser --format=iife \
	--target=es2020 --minify --sourcemap --outfile=dist/demo.js --log-level=warning >&2
