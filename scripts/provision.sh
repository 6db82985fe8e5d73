#!/usr/bin/env bash
# Installs what this package needs on a fresh Debian bookworm machine: Node >= 22,
# PostgreSQL 15 with server headers, pgvector (built from Debian trixie's source package,
# because bookworm has none) and PgBouncer. Idempotent: each step is skipped when its
# result is already there. .ci/run sources it to get Node 24 on PATH; a developer runs it
# with bash and then sources scripts/node-env.sh.
set -euo pipefail

log() { printf '[provision] %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# --- Node >= 22 -----------------------------------------------------------------------
# shellcheck source=scripts/node-env.sh
. "$(dirname "${BASH_SOURCE[0]}")/node-env.sh"
log "node $(node -v)"

# --- PostgreSQL 15, headers, PgBouncer ------------------------------------------------
PG_BIN=/usr/lib/postgresql/15/bin
need_apt=()
[ -x "${PG_BIN}/postgres" ] || need_apt+=(postgresql-15)
[ -f /usr/include/postgresql/15/server/postgres.h ] || need_apt+=(postgresql-server-dev-15)
command -v pgbouncer >/dev/null || [ -x /usr/sbin/pgbouncer ] || need_apt+=(pgbouncer)
command -v make >/dev/null || need_apt+=(make)
if [ "${#need_apt[@]}" -gt 0 ]; then
  log "apt-get install ${need_apt[*]}"
  as_root apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${need_apt[@]}" >&2
  # The Debian package starts a system cluster; tests run their own server instead.
  as_root systemctl disable --now pgbouncer >/dev/null 2>&1 || true
fi

# --- pgvector from trixie's source package --------------------------------------------
if [ ! -f /usr/share/postgresql/15/extension/vector.control ]; then
  log "building pgvector from Debian trixie's source package"
  work="$(mktemp -d)"
  mkdir -p "${work}/apt/lists/partial"
  uri="$(grep -rhoE '^URIs: *https?://[^ ]*debian/?$' /etc/apt/sources.list.d/ 2>/dev/null | head -1 | sed -E 's/^URIs: *//')"
  if [ -z "${uri}" ]; then
    uri="$(grep -hoE '^deb +https?://[^ ]*debian/?( |$)' /etc/apt/sources.list 2>/dev/null | head -1 | awk '{print $2}')"
  fi
  uri="${uri:-http://deb.debian.org/debian}"
  cat > "${work}/apt/trixie-src.sources" <<SRC
Types: deb-src
URIs: ${uri}
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  apt_opts=(-o Dir::Etc::sourcelist=/dev/null -o "Dir::Etc::sourceparts=${work}/apt"
            -o "Dir::State::Lists=${work}/apt/lists")
  as_root apt-get "${apt_opts[@]}" update -qq >&2
  (cd "${work}" && as_root apt-get "${apt_opts[@]}" source --download-only pgvector >&2)
  tarball="$(ls "${work}"/pgvector_*.orig.tar.* | head -1)"
  mkdir -p "${work}/src" && tar -xf "${tarball}" -C "${work}/src" --strip-components=1
  make -s -C "${work}/src" PG_CONFIG="${PG_BIN}/pg_config" >&2
  as_root make -s -C "${work}/src" PG_CONFIG="${PG_BIN}/pg_config" install >&2
  rm -rf "${work}"
fi
log "pgvector $(grep default_version /usr/share/postgresql/15/extension/vector.control | sed -E "s/.*'(.*)'.*/\1/")"
