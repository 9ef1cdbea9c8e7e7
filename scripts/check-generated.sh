#!/usr/bin/env bash
# Fails when packages/rpc/src/gen is not what `npm run generate` makes from proto/ (STYLE: CI checks
# generated code is up to date), or when the protos fail `buf lint`. Regenerates into a temp dir, so the
# working tree is left alone. Uses only the local protoc-gen-es: no network.
set -euo pipefail
cd "$(dirname "$0")/.."

buf=node_modules/.bin/buf
gen=packages/rpc/src/gen

"$buf" lint

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$buf" generate --output "$tmp"

if ! diff -r "$tmp/$gen" "$gen" >"$tmp/diff.txt" 2>&1; then
  cat "$tmp/diff.txt" >&2
  echo "check-generated: $gen is out of date with proto/. Run \`npm run generate\` and commit the result." >&2
  exit 1
fi
echo "check-generated: $gen matches proto/"
