#!/usr/bin/env bash
# Installs the pinned npm packages if missing and bundles the generator.
# Prints the bundle's path. Used by gen.sh and check.sh.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
if [ ! -x node_modules/.bin/esbuild ] || [ ! -d node_modules/wukongimjssdk ]; then
	npm ci --no-audit --no-fund --loglevel=error >&2
fi
node_modules/.bin/esbuild src/gen.mjs --bundle --platform=node --format=esm \
	--outfile=out/gen.mjs --log-level=warning >&2
echo "$here/out/gen.mjs"
