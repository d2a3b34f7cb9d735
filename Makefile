# servicehall — every target sets up what it needs; `make help` lists them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py
HOST ?= 127.0.0.1
PORT ?= 8000
# Root on the dev/CI machines; elsewhere apt needs sudo.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_GET := DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get

.DEFAULT_GOAL := help
.PHONY: help run worker bench-names bench-booking bench-alarms test lint format setup demo-data system-deps test-system-deps messages clean

help: ## list the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

system-deps: ## install Debian packages the hall needs (gettext for translations)
	@command -v msgfmt >/dev/null || { $(APT_GET) update -qq && $(APT_GET) install -y -qq gettext; }

test-system-deps: system-deps ## install Debian's chromium and a CJK font for browser tests
	@if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi 'noto sans cjk'; then \
	  $(APT_GET) update -qq && $(APT_GET) install -y -qq chromium fonts-noto-cjk fontconfig; fi

messages: $(VENV)/.installed system-deps ## compile translations (locale/*/LC_MESSAGES/django.po)
	$(MANAGE) compilemessages -v 0 --ignore '.venv/*'

setup: $(VENV)/.installed system-deps messages ## virtualenv, packages, translations, database schema
	@mkdir -p var
	$(MANAGE) migrate --no-input -v 0

demo-data: setup ## load the catalogue, the calendar, demo accounts, a small registry, cases, letters, bookings, escorts and incidents
	$(MANAGE) load_calendar
	$(MANAGE) load_catalog
	$(MANAGE) demo_accounts
	$(MANAGE) demo_registry
	$(MANAGE) demo_cases
	$(MANAGE) demo_letters
	$(MANAGE) demo_bookings
	$(MANAGE) demo_escorts
	$(MANAGE) demo_alarms

run: demo-data ## set up everything and serve the hall on http://127.0.0.1:8000 (SQLite), with its workers
	@trap 'kill 0' EXIT; \
	DEBUG=1 $(MANAGE) run_outbox --interval 2 & \
	while true; do DEBUG=1 $(MANAGE) sweep_deadlines -v 0; DEBUG=1 $(MANAGE) expire_identity_proofs -v 0; DEBUG=1 $(MANAGE) release_slots -v 0; DEBUG=1 $(MANAGE) sweep_escorts -v 0; sleep 600; done & \
	DEBUG=1 $(MANAGE) runserver $(HOST):$(PORT)

worker: setup ## background work only: deliver the outbox and sweep deadlines every 10 minutes
	@trap 'kill 0' EXIT; \
	$(MANAGE) run_outbox & \
	while true; do $(MANAGE) sweep_deadlines; $(MANAGE) expire_identity_proofs; $(MANAGE) release_slots; $(MANAGE) sweep_escorts; sleep 600; done

test: $(VENV)/.installed test-system-deps messages ## run the whole suite (PostgreSQL when reachable)
	$(VENV)/bin/pytest $(PYTEST_ARGS)

bench-names: $(VENV)/.installed ## benchmark: 10M residents, load + build, the name API over HTTP (PostgreSQL, wrk)
	@command -v wrk >/dev/null || { $(APT_GET) update -qq && $(APT_GET) install -y -qq wrk; }
	$(PY) bench/names.py $(BENCH_ARGS)

bench-booking: $(VENV)/.installed ## benchmark: 2,000 users rush 200 slots over HTTP; overbooking must be 0 (PostgreSQL, wrk)
	@command -v wrk >/dev/null || { $(APT_GET) update -qq && $(APT_GET) install -y -qq wrk; }
	$(PY) bench/booking.py $(BENCH_ARGS)

bench-alarms: $(VENV)/.installed ## benchmark: 12110 SMS at 200/s over the HTTP callback to two live consoles; delay, lost, reordered (PostgreSQL, Redis)
	$(PY) bench/alarms.py $(BENCH_ARGS)

lint: $(VENV)/.installed ## ruff check and format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.installed ## apply ruff fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean: ## remove the virtualenv and local data under var/
	rm -rf $(VENV) var/*.sqlite3 var/media
