# Maeul — the two commands: `make run` and `make test`. Everything else is for developers and operators.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test test-sqlite test-postgres lint bench lock messages system-packages pdf-packages clean

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || { \
		echo "Installing python3-venv (Debian)…"; apt-get update -qq && apt-get install -y -qq python3-venv && $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.lock
	$(BIN)/python -m pip install -q --no-deps -e .
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

run: $(STAMP) pdf-packages
	$(BIN)/maeul run

# Debian packages the browser, MQTT and Spark tests need, installed only when missing.
system-packages: pdf-packages
	@bash scripts/ensure-debian-packages.sh chromium fonts-noto-color-emoji mosquitto openjdk-17-jre-headless

# Pango and the Korean font, for the PDF reports (programme, disaster) (WeasyPrint).
pdf-packages:
	@bash scripts/ensure-debian-packages.sh libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-cjk

test: test-sqlite test-postgres

# Two pytest workers (pytest-xdist): CI has two cores; each worker gets its own test database.
TEST_WORKERS ?= 2

test-sqlite: $(STAMP) system-packages
	$(BIN)/pytest -q -n $(TEST_WORKERS)

test-postgres: $(STAMP) system-packages
	$(BIN)/python -m maeul.testing.postgres_server -- $(BIN)/pytest -q -n $(TEST_WORKERS)

lint: $(STAMP)
	$(BIN)/ruff check src benchmarks
	$(BIN)/ruff format --check src benchmarks
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python benchmarks/pages.py --backend sqlite
	$(BIN)/python -m maeul.testing.postgres_server -- $(BIN)/python benchmarks/pages.py --backend postgres
	$(BIN)/python benchmarks/hazards.py --backend sqlite
	$(BIN)/python -m maeul.testing.postgres_server -- $(BIN)/python benchmarks/hazards.py --backend postgres
	$(BIN)/python benchmarks/replay.py
	$(BIN)/python benchmarks/detection_quality.py
	$(BIN)/python -m maeul.testing.postgres_server -- $(BIN)/python benchmarks/ingest.py
	$(BIN)/python -m maeul.testing.postgres_server -- $(BIN)/python benchmarks/safetynet_lists.py --backend postgres
	$(BIN)/python benchmarks/disaster.py --backend sqlite
	$(BIN)/python -m maeul.testing.postgres_server -- $(BIN)/python benchmarks/disaster.py --backend postgres
	$(BIN)/python benchmarks/screening.py

# Regenerate the lock file from pyproject.toml (developers, after changing dependencies).
lock:
	rm -rf /tmp/maeul-lock-venv && $(PYTHON) -m venv /tmp/maeul-lock-venv
	/tmp/maeul-lock-venv/bin/pip install -q --upgrade pip && /tmp/maeul-lock-venv/bin/pip install -q -e '.[dev]'
	/tmp/maeul-lock-venv/bin/pip freeze --exclude-editable | grep -v '^maeul' > requirements.lock

# Compile translations after editing src/maeul/locale/*/LC_MESSAGES/django.po (needs Debian gettext).
messages: $(STAMP)
	cd src/maeul && ../../$(BIN)/django-admin makemessages -l ko -l en --no-obsolete --settings=maeul.testing.settings \
		--ignore 'testing/*' --ignore 'static/*'
	cd src/maeul && ../../$(BIN)/django-admin compilemessages --settings=maeul.testing.settings

clean:
	rm -rf $(VENV) var
