# Sourced by start.sh and test.sh: puts Node >= 24 and pnpm 10 first on PATH, installing
# them from the npm registry into a local prefix when the machine's node is older.
node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if [ "$(node_major)" -lt 24 ] || ! command -v pnpm >/dev/null 2>&1; then
  prefix="${NODE_MIRTH_TOOLCHAIN:-$HOME/.cache/node-mirth/toolchain}"
  if [ ! -x "$prefix/bin/node" ] || [ ! -x "$prefix/bin/pnpm" ] ||
    [ "$("$prefix/bin/node" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)" -lt 24 ]; then
    echo "Installing Node 24 and pnpm 10 into $prefix"
    npm i -g --prefix "$prefix" node@24 pnpm@10
  fi
  export PATH="$prefix/bin:$PATH"
fi
echo "node $(node --version), pnpm $(pnpm --version)"
