#!/usr/bin/env bash
# Installs what the project needs and is missing: Debian packages (PostgreSQL + PostGIS, Redis, HAProxy,
# GDAL/GEOS/PROJ for GeoDjango, Chromium for browser tests), the .venv with requirements.txt and
# the front-end assets from the npm registry. Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

need_pkgs=()
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)
pg_ver=${pg_bin#/usr/lib/postgresql/}; pg_ver=${pg_ver%/bin}
[ -n "$pg_bin" ] || { need_pkgs+=(postgresql); pg_ver=15; }
ls /usr/share/postgresql/"${pg_ver:-15}"/extension/postgis.control >/dev/null 2>&1 \
  || need_pkgs+=("postgresql-${pg_ver:-15}-postgis-3")
command -v redis-server >/dev/null || need_pkgs+=(redis-server)
command -v haproxy >/dev/null || need_pkgs+=(haproxy)
command -v pgbackrest >/dev/null || need_pkgs+=(pgbackrest)
command -v pgbouncer >/dev/null || [ -x /usr/sbin/pgbouncer ] || need_pkgs+=(pgbouncer)  # make cluster
ls /usr/share/postgresql/"${pg_ver:-15}"/extension/pg_partman.control >/dev/null 2>&1 \
  || need_pkgs+=("postgresql-${pg_ver:-15}-partman")  # the position history's day partitions
# (One `ls` of two globs fails when either matches nothing, which reinstalled GDAL on every run.)
command -v ogrinfo >/dev/null || need_pkgs+=(gdal-bin)
compgen -G "/usr/lib/*/libgeos_c.so*" >/dev/null || need_pkgs+=(libgeos-c1v5)
compgen -G "/usr/lib/*/libpangoft2-1.0.so*" >/dev/null || need_pkgs+=(libpango-1.0-0 libpangoft2-1.0-0)  # WeasyPrint
command -v npm >/dev/null || need_pkgs+=(nodejs npm)
command -v runuser >/dev/null || need_pkgs+=(util-linux)
command -v curl >/dev/null || need_pkgs+=(curl)
if [ "${GAD_BROWSER:-0}" = 1 ]; then
  command -v chromium >/dev/null || need_pkgs+=(chromium)
fi
if [ "${GAD_OPS:-0}" = 1 ]; then  # the tests check the Prometheus rules and Alertmanager routing
  command -v promtool >/dev/null || need_pkgs+=(prometheus)
  command -v amtool >/dev/null || need_pkgs+=(prometheus-alertmanager)
fi
if [ "${GAD_BENCH:-0}" = 1 ]; then
  command -v wrk >/dev/null || need_pkgs+=(wrk)
  command -v nginx >/dev/null || need_pkgs+=(nginx-light)  # the tiles benchmark's static reference
fi

if [ ${#need_pkgs[@]} -gt 0 ]; then
  cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y ${need_pkgs[*]}"
  if [ "$(id -u)" = 0 ]; then
    echo "==> Installing Debian packages: ${need_pkgs[*]}"
    bash -c "$cmd"
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    sudo bash -c "$cmd"
  else
    echo "Missing system packages: ${need_pkgs[*]}" >&2
    echo "Run as root:  sudo bash -c '$cmd'" >&2
    exit 1
  fi
fi

# Python virtualenv, reinstalled only when requirements.txt changes.
if [ ! -x .venv/bin/python ]; then
  echo "==> Creating .venv"
  python3 -m venv .venv
fi
stamp=.venv/.requirements.sha
sum=$(sha256sum requirements.txt | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$sum" ]; then
  echo "==> Installing Python requirements"
  .venv/bin/pip install -q --disable-pip-version-check -r requirements.txt
  echo "$sum" > "$stamp"
fi
# The profiler the benchmarks are read with (py-spy record/dump on a server process).
if [ "${GAD_BENCH:-0}" = 1 ] && [ ! -x .venv/bin/py-spy ]; then
  .venv/bin/pip install -q --disable-pip-version-check py-spy==0.4.3
fi

# Front-end assets: from the npm registry at install time, served locally (never a CDN).
stamp=node_modules/.lock.sha
sum=$(sha256sum package.json package-lock.json | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$sum" ] || [ ! -f static/vendor/fonts/noto-sans-latin-700-normal.woff2 ] \
   || [ ! -f static/vendor/idb-keyval/index.js ]; then
  echo "==> Installing front-end assets"
  npm ci --no-audit --no-fund --loglevel=error
  mkdir -p static/vendor/ol static/vendor/maplibre static/vendor/fonts static/vendor/idb-keyval
  # The field app's offline queue (IndexedDB), an ES module.
  cp node_modules/idb-keyval/dist/index.js static/vendor/idb-keyval/
  cp node_modules/ol/dist/ol.js node_modules/ol/ol.css static/vendor/ol/
  cp node_modules/maplibre-gl/dist/maplibre-gl.js node_modules/maplibre-gl/dist/maplibre-gl.css \
     static/vendor/maplibre/
  # Map labels (MapLibre draws them from this web font; no glyph server). The base map's land,
  # node_modules/world-atlas/land-10m.json, is loaded into PostGIS by a migration.
  cp node_modules/@fontsource/noto-sans/files/noto-sans-latin-{400,700}-normal.woff2 static/vendor/fonts/
  echo "$sum" > "$stamp"
fi

# The secret DEBUG=false needs (the Makefile points SECRET_KEY_FILE here unless one is given).
mkdir -p .run
[ -s .run/secret_key ] || (umask 077; head -c 48 /dev/urandom | base64 | tr -d '\n' > .run/secret_key)
# The keys that encrypt personal data at rest (gad_project/cifrado.py), generated once. Losing this
# file loses the data it encrypted: back it up apart from the database.
[ -s .run/cifrado_claves ] || (umask 077; .venv/bin/python -c "
import base64, os
from cryptography.fernet import Fernet
print('indice:' + base64.urlsafe_b64encode(os.urandom(32)).decode())
print(Fernet.generate_key().decode())" > .run/cifrado_claves)
