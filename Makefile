# Developer entry points. `make run` and `make test` work on a fresh clone: they create .venv,
# install the project (again only when pyproject.toml changes) and use SQLite unless DATABASE_URL
# is set. See README.md.

PYTHON ?= python3
VENV   ?= .venv
ADDR   ?= 127.0.0.1:8000
ARGS   ?=
BACKUP_DIR ?= backups
FILE   ?=

PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
MANAGE  := $(PY) manage.py

.DEFAULT_GOAL := help
.PHONY: help install run test lint audit bandit pip-audit backup restore messages compilemessages clean distclean

help:
	@echo "make run        install, migrate, load demo data (once) and serve at http://$(ADDR)"
	@echo "make test       install and run the tests (pass pytest options as ARGS='-k schedule')"
	@echo "make lint       ruff check + ruff format --check"
	@echo "make audit      bandit (no medium or high finding) and pip-audit (when its database is reachable)"
	@echo "make backup     PostgreSQL dump + member photos to $(BACKUP_DIR)/lkmm-YYYYmmdd-HHMMSS.{dump,media.tar}"
	@echo "make restore FILE=backups/lkmm-....dump   into an empty database and MEDIA_ROOT"
	@echo "make messages   update locale/en .po from the source, then compile the .mo files"
	@echo "make clean      remove caches, collected static files and test artifacts"
	@echo "make distclean  clean, and also remove .venv and the SQLite database"

$(PY):
	$(PYTHON) -m venv $(VENV)

# The stamp is newer than pyproject.toml once its dependencies are installed.
$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --disable-pip-version-check -e ".[dev]"
	touch $@

install: $(STAMP)

# The committed .mo files are used when gettext's msgfmt is not installed.
compilemessages: $(STAMP)
	@if ! command -v msgfmt >/dev/null 2>&1; then \
		echo "msgfmt (gettext) not found: using the committed .mo files"; \
	elif [ -d locale ]; then \
		$(MANAGE) compilemessages --ignore=$(VENV); \
	fi

# seed_demo is idempotent: it prints "demo data already present" when the demo LKMMs exist.
run: $(STAMP) compilemessages
	$(MANAGE) migrate
	$(MANAGE) seed_demo
	$(MANAGE) runserver $(ADDR)

# Tests use the committed .mo files, so a stale translation fails here rather than in production.
test: $(STAMP)
	$(VENV)/bin/pytest $(ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Security checks, also run by .ci/run. bandit reads its exclusions from pyproject.toml.
audit: bandit pip-audit

# Fails on any medium or high finding. bandit also warns "nosec encountered ..., but no failed test"
# for the other string parts of a line whose nosec is justified: only that noise is dropped.
bandit: SHELL := /bin/bash
bandit: .SHELLFLAGS := -o pipefail -c
bandit: $(STAMP)
	$(VENV)/bin/bandit -c pyproject.toml -r . --severity-level medium -q 2>&1 \
		| { grep -v 'but no failed test' || true; }

pip-audit: $(STAMP)
	$(PY) .ci/audit_dependencies.py

# No $(STAMP) here: on a server (make backup VENV=venv) a backup must never start a pip install.
# DATABASE_URL and MEDIA_ROOT come from the environment or .env, as for the app.
backup:
	$(MANAGE) backup --dir $(BACKUP_DIR)

restore:
	@test -n "$(FILE)" || { echo "usage: make restore FILE=$(BACKUP_DIR)/lkmm-YYYYmmdd-HHMMSS.dump" >&2; exit 2; }
	$(MANAGE) restore "$(FILE)"

messages: $(STAMP)
	$(MANAGE) makemessages -l en --ignore=$(VENV) --ignore=staticfiles --ignore=test-artifacts
	$(MANAGE) compilemessages --ignore=$(VENV)

clean:
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
	rm -rf .pytest_cache .ruff_cache .hypothesis staticfiles test-artifacts build *.egg-info

distclean: clean
	rm -rf $(VENV) db.sqlite3
