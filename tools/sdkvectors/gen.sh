#!/usr/bin/env bash
# Rewrites node/proto/testdata/sdk from the SDK. Run after changing
# src/gen.mjs; commit the result.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bundle="$(bash "$here/build.sh")"
dest="$here/../../node/proto/testdata/sdk"
rm -rf "$dest"
node --experimental-websocket "$bundle" "$dest"
