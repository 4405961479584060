# make run: a fresh machine to a running site with demo data at http://127.0.0.1:$(PORT)
# make test: the whole suite (SQLite; set TEST_DATABASE_URL for PostgreSQL)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
FLASK := $(BIN)/flask --app wsgi

.PHONY: run test lint bench migration clean

$(VENV)/.installed-run: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[local]'
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed-run
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

# Links in emails and feeds point at the port the site is served on, unless BASE_URL says otherwise.
run: export BASE_URL ?= http://127.0.0.1:$(PORT)
# Payments go to a local fake Stripe (localstripe, started by booking.serve) unless the
# STRIPE_* settings say otherwise: pay with card 4242 4242 4242 4242.
LOCALSTRIPE_PORT ?= 8420
run: export STRIPE_SECRET_KEY ?= sk_test_localstripe
run: export STRIPE_PUBLISHABLE_KEY ?= pk_test_localstripe
run: export STRIPE_WEBHOOK_SECRET ?= whsec_localstripe
run: export STRIPE_API_BASE ?= http://127.0.0.1:$(LOCALSTRIPE_PORT)
run: export STRIPE_JS_URL ?= http://127.0.0.1:$(LOCALSTRIPE_PORT)/js.stripe.com/v3/
run: $(VENV)/.installed-run
	$(FLASK) db upgrade
	$(FLASK) seed-demo
	$(BIN)/python -m booking.serve --port $(PORT)

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .

bench: $(VENV)/.installed-dev
	command -v wrk >/dev/null || (apt-get update -q && apt-get install -y -q wrk)
	$(BIN)/python -m bench.run

migration: $(VENV)/.installed-dev
	./migrations/regenerate.sh

clean:
	rm -rf $(VENV) instance/booking.sqlite3*
