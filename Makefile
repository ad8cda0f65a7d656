# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
UV := $(PYTHON) -m uv
DEMO_PATIENTS ?= 2000
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test test-long lint browser

install:
	@$(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv
	$(UV) sync --frozen

run: install
	$(UV) run bamara setup_instance --demo-patients $(DEMO_PATIENTS) --url http://$(HOST):$(PORT)/
	$(UV) run bamara runserver $(HOST):$(PORT)

lint: install
	$(UV) run ruff check .

# Browser tests drive Debian's chromium (Playwright cannot download its own browser here).
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
	  && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
	  || echo "chromium is not installed: the browser tests will be skipped"

test: lint browser
	$(UV) run pytest

# The 100,000-row import tests (fault classes, kill -9 and resume): about 20 minutes.
test-long: install
	BAMARA_LONG_TESTS=1 $(UV) run pytest -m long
