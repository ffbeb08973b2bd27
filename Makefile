# The two commands a new user needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := webapp

.PHONY: bench soak run https test setup translations db demo serve test-postgres test-browser test-js extract-messages clean

$(BIN)/activate: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(BIN)/activate

setup: $(BIN)/activate translations

translations: $(BIN)/activate
	$(BIN)/pybabel compile -d webapp/translations

db: setup
	$(BIN)/flask db upgrade

demo: db
	$(BIN)/flask demo --first-run

## run: set up, migrate the SQLite database, load the demo once, serve on 0.0.0.0:8000 with the
## background worker beside it (webapp/serving.py starts and stops it with gunicorn)
run: demo
	@$(BIN)/python -m webapp.banner
	$(BIN)/gunicorn --bind 0.0.0.0:8000 --workers 2 --threads 4 --config python:webapp.serving --access-logfile - --logger-class webapp.capabilities.GunicornLogger "webapp:create_app()"

## https: like run, over HTTPS on 0.0.0.0:8443 with a local certificate authority (phones install it from /certificate)
https: demo
	$(BIN)/flask serve-https

# pytest-xdist: one worker per core, each with databases (and a Chromium) of its own; a module's
# demo-firm tests stay on one worker (tests/conftest.py groups them), hence --dist loadgroup.
# PYTEST_WORKERS=0 runs in one process.
PYTEST_WORKERS ?= auto
# PYTHONDONTWRITEBYTECODE emptied for the tests: some shells set it, and then every worker compiles the
# app and rewrites every test module's asserts again on each run (seconds per worker before the first test).
PYTEST := PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) --dist loadgroup

## test: set up and run the whole suite (SQLite; PostgreSQL and browser tests when available)
test: setup
	$(PYTEST)

## test-js: the outbox store's unit tests with Node's built-in runner (node 18+, no npm package); CI runs
## them beside `make test`, which stays the Python suite (no node needed to work on the Python side)
test-js:
	node --test tests/js/

test-postgres: setup
	TEST_DATABASE_URL=$${TEST_DATABASE_URL:-postgresql:///test} $(PYTEST)

## bench: time the pages against a bare Flask baseline at the demo size and at 100,000 orders, on SQLite
## (and PostgreSQL with BENCH_POSTGRES_URL=postgresql:///bench), and write docs/benchmarks.md; wrk is installed
## when missing and root (else a Python driver). Quick run: BENCH_ORDERS=2000 BENCH_SECONDS=3 make bench
bench: setup
	@command -v wrk >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null 2>&1; } || echo "wrk unavailable: the bench uses its Python driver"
	$(BIN)/python -m tools.bench.run

## soak: 50 simulated phones write for 10 minutes through gunicorn (as `run` serves it) with a worker killed
## twice; every acknowledged write is counted in the database (tools/soak.py). SOAK_SECONDS, SOAK_PHONES;
## SOAK_DATABASE_URL=postgresql:///soak for PostgreSQL (that database is emptied). Writes docs/benchmarks.md's Soak rows.
soak: setup
	SOAK_REPORT=$${SOAK_REPORT-docs/benchmarks.md} $(BIN)/python tools/soak.py

extract-messages: $(BIN)/activate
	$(BIN)/pybabel extract -F babel.cfg -k N_ -k NP_:1c,2 -k _l -k pgettext:1c,2 --ignore-dirs '.* .venv' -o webapp/translations/messages.pot --no-location --sort-output .
	$(BIN)/pybabel update -i webapp/translations/messages.pot -d webapp/translations --no-fuzzy-matching

clean:
	rm -rf $(VENV)
