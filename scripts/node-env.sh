# Source this file (`. scripts/node-env.sh`): puts Node >= 22 on PATH for this shell,
# installing Node 24 from the npm package `node@24` into ~/.cache/node24 when the system's
# Node is older. Safe to source from an interactive shell (no `set -e`, no exit).
_wk_node_major() { node -v 2>/dev/null | sed -E 's/^v([0-9]+).*/\1/'; }
if [ "$(_wk_node_major || echo 0)" -lt 22 ] 2>/dev/null || ! command -v node >/dev/null 2>&1; then
  _wk_prefix="${HOME}/.cache/node24"
  if [ ! -x "${_wk_prefix}/node_modules/.bin/node" ]; then
    echo "[node-env] Node $(node -v 2>/dev/null || echo none) is older than 22: installing node@24 from npm" >&2
    npm install --silent --no-audit --no-fund --prefix "${_wk_prefix}" node@24 >&2
  fi
  case ":${PATH}:" in *":${_wk_prefix}/node_modules/.bin:"*) ;; *) export PATH="${_wk_prefix}/node_modules/.bin:${PATH}" ;; esac
  unset _wk_prefix
fi
unset -f _wk_node_major
