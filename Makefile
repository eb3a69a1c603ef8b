# Two commands: `make run` (set up and start the registry) and `make test` (set up and run all tests).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# The address links in alert messages point to (settings' SITE_URL): this run's, unless the
# environment or the command line gives one.
SITE_URL ?= http://$(HOST):$(PORT)

.PHONY: setup run test test-quick lint load serve bench

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

# axe-core, the accessibility engine the browser tests run on the main pages (from the npm
# registry, pinned; nothing the site serves): skipped where npm is missing, and then those tests say so.
AXE_VERSION := 4.14.1
AXE := $(VENV)/axe/node_modules/axe-core/axe.min.js

$(AXE): | $(VENV)/.installed
	@if command -v npm >/dev/null; then \
		npm install --silent --no-save --no-audit --no-fund --prefix $(VENV)/axe axe-core@$(AXE_VERSION) \
			|| echo "axe-core could not be installed: the accessibility tests will say so"; \
	else echo "npm not found: the accessibility tests will say so"; fi

setup: $(VENV)/.installed $(AXE)

load: setup
	$(PY) manage.py migrate --noinput
	$(PY) manage.py rebuild_read_model --missing
	$(PY) manage.py load_registry

run: load
	@echo ""
	@echo "  Registry:   http://$(HOST):$(PORT)/   (English: http://$(HOST):$(PORT)/en/)"
	@echo "  Admin:      http://$(HOST):$(PORT)/admin/"
	@echo "  API:        http://$(HOST):$(PORT)/api/v1/   (docs: http://$(HOST):$(PORT)/api/docs/)"
	@echo "  Create a curator account:  $(PY) manage.py create_curator <username> <email>"
	@echo "  Email alerts: messages print in this terminal; send the digests due: $(PY) manage.py send_alerts"
	@echo ""
	SITE_URL=$(SITE_URL) $(PY) manage.py runserver $(HOST):$(PORT)

# Python caches compiled modules and pytest its rewritten test modules (__pycache__, ignored by
# git) even where the environment says not to: collecting the tests again takes 1 s instead of 5.
unexport PYTHONDONTWRITEBYTECODE

# Tests run on every core (pytest-xdist), a test file's tests on one worker (module fixtures such
# as the bundled registry are set up once). TEST_WORKERS=0 runs them in this process.
TEST_WORKERS ?= auto
XDIST = $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile)

test: setup
	$(PY) -m pytest $(XDIST) $(PYTEST_ARGS)

# Everything but the tests marked `slow` (under 2 minutes on 2 cores): the whole bundled registry,
# the browser and deployment tests (Chromium, nginx and gunicorn), threads racing, migrations run
# back and forth, the long fuzzing and property runs, and checks repeated over many calls.
test-quick: setup
	$(PY) -m pytest -m "not slow" $(XDIST) $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check .

# A production-like local run: production settings with a local secret, collected static files
# served by WhiteNoise, gunicorn with 2 threaded workers (registry/gunicorn.conf.py: slow clients
# and long exports hold a thread, not a worker). Plain HTTP on loopback, so no HTTPS redirect.
SERVE_ENV = DJANGO_SETTINGS_MODULE=registry.settings.production SECRET_KEY="$$(cat .local-secret)" \
	ALLOWED_HOSTS=127.0.0.1,localhost SECURE_SSL_REDIRECT=false SECURE_COOKIES=false

# The secret is readable by its owner only (made under umask 077, then chmod 600 to be sure).
.local-secret:
	umask 077 && $(PY) -c "import secrets; print(secrets.token_urlsafe(64))" > $@
	chmod 600 $@

serve: setup .local-secret
	@chmod 600 .local-secret
	$(SERVE_ENV) $(PY) manage.py migrate --noinput
	$(SERVE_ENV) $(PY) manage.py rebuild_read_model --missing
	$(SERVE_ENV) $(PY) manage.py load_registry
	$(SERVE_ENV) $(PY) manage.py collectstatic --noinput --verbosity 0
	@echo "  Production-like registry on http://$(HOST):$(PORT)/ (gunicorn: 2 workers x 16 threads, registry/gunicorn.conf.py)"
	$(SERVE_ENV) $(VENV)/bin/gunicorn registry.wsgi -c registry/gunicorn.conf.py --bind $(HOST):$(PORT)

# `make bench`: synthetic registries (1 000, 10 000, 100 000 calls) in the bench's own PostgreSQL
# database and a SQLite copy, in-process and HTTP measurements, Datasette as a peer, load and
# fault tests; writes bench/results/report.{json,md}. Within 15 minutes on a 2-core machine.
BENCH_ARGS ?=
BENCH_DS := bench/.venv-datasette
.PHONY: bench-tools bench-datasette bench-fault

bench-tools:
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk >/dev/null)

$(BENCH_DS)/.installed: bench/requirements-datasette.txt
	test -x $(BENCH_DS)/bin/python || $(PYTHON) -m venv $(BENCH_DS)
	$(BENCH_DS)/bin/python -m pip install --quiet -r bench/requirements-datasette.txt
	touch $@

bench-datasette: $(BENCH_DS)/.installed

bench: setup bench-tools bench-datasette
	$(PY) -m bench.run $(BENCH_ARGS)

BENCH_FAULT_ARGS ?=
bench-fault: setup bench-tools
	$(PY) -m bench.load_fault $(BENCH_FAULT_ARGS)
