#!/usr/bin/env bash
# The README's test command: all set-up on a fresh machine, then every test.
# Ends with the line `tests: N passed, N failed, N skipped`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/toolchain.sh
source scripts/install-peers.sh
pnpm install --frozen-lockfile
pnpm test
