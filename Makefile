# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
UV := $(PYTHON) -m uv
DEMO_PATIENTS ?= 2000
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test lint bench

install:
	@$(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv
	$(UV) sync --frozen

run: install
	$(UV) run bamara setup_instance --demo-patients $(DEMO_PATIENTS) --url http://$(HOST):$(PORT)/
	$(UV) run bamara runserver $(HOST):$(PORT)

lint: install
	$(UV) run ruff check .

test: lint
	$(UV) run pytest
