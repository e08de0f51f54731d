# GRUPO_GAD: `make run` starts the whole system with demo data; `make test` runs the test suite.
# Both install what is missing first (Debian packages, .venv, front-end assets) and start the
# project-local PostgreSQL/PostGIS and Redis under .run/ (unless DATABASE_URL / REDIS_URL are set).
SHELL := /bin/bash
PY := .venv/bin/python
# DEBUG is off unless asked for (settings.py), and then the development key is refused: every
# command here uses a secret generated once under .run/ (scripts/bootstrap.sh), unless SECRET_KEY
# or SECRET_KEY_FILE is set.
ifeq ($(origin SECRET_KEY),undefined)
export SECRET_KEY_FILE ?= $(CURDIR)/.run/secret_key
endif
# The tests' servers speak plain HTTP on loopback, as make run's do: cookies cannot be Secure there.
TEST_ENV := SESSION_COOKIE_SECURE=$${SESSION_COOKIE_SECURE:-false} CSRF_COOKIE_SECURE=$${CSRF_COOKIE_SECURE:-false}

.PHONY: run test test-rapido stop bootstrap services migrate demo lint bench clean capturas backup cluster

bootstrap:
	@bash scripts/bootstrap.sh

services: bootstrap
	@bash scripts/services.sh start

migrate: services
	@$(PY) manage.py migrate --noinput -v0

run: migrate
	@$(PY) manage.py collectstatic --noinput -v0
	@$(PY) manage.py cargar_demo
	@bash scripts/respaldo.sh configurar
	@bash scripts/respaldo.sh info | grep -q "full backup" || bash scripts/respaldo.sh respaldar full
	@bash scripts/run.sh

test:
	@GAD_BROWSER=1 GAD_OPS=1 bash scripts/bootstrap.sh
	@bash scripts/services.sh start
	@$(PY) manage.py collectstatic --noinput -v0
	@rm -rf .run/metricas-$${REDIS_PREFIX:-gadtest} .run/metricas-$${REDIS_PREFIX:-gadtest}gw*
	@# Everything but the topology on two workers (pytest-xdist: a test database and Redis keys
	@# of their own each); then the topology tests (marker lento: Redis and PostgreSQL restarts,
	@# clusters of their own, load) alone, as their timings assume.
	@$(TEST_ENV) REDIS_PREFIX=$${REDIS_PREFIX:-gadtest} $(PY) -m pytest -n 2 -m "not lento" $(PYTEST_ARGS)
	@$(TEST_ENV) REDIS_PREFIX=$${REDIS_PREFIX:-gadtest} $(PY) -m pytest -m lento $(PYTEST_ARGS)

# Day to day: the suite without the browser, the topology (markers browser and lento) and whatever
# starts real processes (servers, the bot, clusters of its own: skipped under GAD_RAPIDO, see
# tests/conftest.py and tests/vivo.py), on two workers (pytest-xdist: a test database and Redis
# keys of their own each). `make test` and CI run everything.
test-rapido:
	@bash scripts/bootstrap.sh
	@bash scripts/services.sh start
	@rm -rf .run/metricas-$${REDIS_PREFIX:-gadtest} .run/metricas-$${REDIS_PREFIX:-gadtest}gw*
	@$(TEST_ENV) GAD_RAPIDO=1 REDIS_PREFIX=$${REDIS_PREFIX:-gadtest} $(PY) -m pytest -q -n 2 -m "not browser and not lento" $(PYTEST_ARGS)

# The README's screenshots (docs/*.png), written by the browser tests from the demo data.
capturas:
	@GAD_BROWSER=1 bash scripts/bootstrap.sh
	@bash scripts/services.sh start
	@$(PY) manage.py collectstatic --noinput -v0
	@$(TEST_ENV) GAD_CAPTURAS=1 REDIS_PREFIX=$${REDIS_PREFIX:-gadtest} $(PY) -m pytest -q tests/mapa/test_navegador_base.py tests/gad_project/test_admin_navegador.py \
	  tests/mapa/test_navegador.py::test_el_comandante_ve_moverse_a_un_efectivo_y_reconoce_su_alerta_en_vivo

# The multi-node topology on this machine (scripts/cluster.sh): primary + streaming replica,
# PgBouncer, two app nodes behind HAProxy on :8100, Celery workers and one beat, two Redis.
cluster: migrate
	@$(PY) manage.py collectstatic --noinput -v0
	@$(PY) manage.py cargar_demo
	@bash scripts/cluster.sh start

stop:
	@bash scripts/cluster.sh stop
	@bash scripts/services.sh stop

# A base backup of the local cluster (pgBackRest; WAL is archived continuously by make run).
backup: bootstrap
	@bash scripts/services.sh start
	@bash scripts/respaldo.sh configurar
	@bash scripts/respaldo.sh respaldar $${TIPO:-incr}

lint: bootstrap
	@.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/mypy

bench:
	@GAD_BENCH=1 GAD_BROWSER=1 bash scripts/bootstrap.sh
	@bash scripts/services.sh start
	@$(PY) manage.py collectstatic --noinput -v0
	@$(PY) benchmarks/ingest.py
	@$(PY) benchmarks/dispatch.py
	@$(PY) benchmarks/realtime.py
	@$(PY) benchmarks/tiles.py
	@$(PY) benchmarks/bot.py
	@$(PY) benchmarks/exportes.py

clean: stop
	rm -rf .run .venv node_modules static/vendor
