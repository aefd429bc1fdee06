#!/usr/bin/env bash
# The README's start command: all set-up on a fresh machine, build, start the server.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/toolchain.sh
pnpm install --frozen-lockfile
exec pnpm start "$@"
