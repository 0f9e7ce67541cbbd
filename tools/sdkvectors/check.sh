#!/usr/bin/env bash
# Regenerates the SDK vectors into a temporary directory and fails if they
# differ from node/proto/testdata/sdk. Works from any directory.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
committed="$here/../../node/proto/testdata/sdk"
bundle="$(bash "$here/build.sh")"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
node --experimental-websocket "$bundle" "$tmp" >/dev/null
if ! diff -ru "$committed" "$tmp"; then
	echo "sdkvectors: FAIL: node/proto/testdata/sdk differs from what wukongimjssdk produces; run bash tools/sdkvectors/gen.sh" >&2
	exit 1
fi
echo "sdkvectors: OK: $(ls "$tmp" | wc -l) vector files match wukongimjssdk 1.0.4"
