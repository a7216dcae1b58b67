# Developer entry points. `make run` and `make test` work on a fresh clone: they create .venv,
# install the project (again only when pyproject.toml changes) and use SQLite unless DATABASE_URL
# is set. See README.md.

PYTHON ?= python3
VENV   ?= .venv
ADDR   ?= 127.0.0.1:8000
ARGS   ?=

PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
MANAGE  := $(PY) manage.py

.DEFAULT_GOAL := help
.PHONY: help install run test lint messages compilemessages clean distclean

help:
	@echo "make run        install, migrate, load demo data (once) and serve at http://$(ADDR)"
	@echo "make test       install and run the tests (pass pytest options as ARGS='-k schedule')"
	@echo "make lint       ruff check + ruff format --check"
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

messages: $(STAMP)
	$(MANAGE) makemessages -l en --ignore=$(VENV) --ignore=staticfiles --ignore=test-artifacts
	$(MANAGE) compilemessages --ignore=$(VENV)

clean:
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
	rm -rf .pytest_cache .ruff_cache .hypothesis staticfiles test-artifacts build *.egg-info

distclean: clean
	rm -rf $(VENV) db.sqlite3
