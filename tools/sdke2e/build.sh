#!/usr/bin/env bash
# Installs the pinned npm packages if missing (or with --ci, always, as
# `npm ci`) and bundles the SDK for src/chat.mjs. Prints chat.mjs's path.
# Used by e2e/sdk_test.go and `make e2e`.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
if [ "${1:-}" = "--ci" ] || [ ! -x node_modules/.bin/esbuild ] || [ ! -d node_modules/wukongimjssdk ]; then
	npm ci --no-audit --no-fund --loglevel=error >&2
fi
node_modules/.bin/esbuild src/sdk.mjs --bundle --platform=node --format=esm \
	--outfile=out/sdk.mjs --log-level=warning >&2
echo "$here/src/chat.mjs"
