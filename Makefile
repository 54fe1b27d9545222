# 政通 Zhengtong. `make demo` starts the platform; `make test` runs every test.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo test test-fast bench install lint docs clean-db screenshots

$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev,gm]'
	@touch $(STAMP)

FONTS := var/fonts/FandolFang-Regular.ttf

# GB/T 9704 PDFs need 仿宋/小标宋/黑体/楷体: the free Fandol fonts, converted once (scripts/install-fonts.sh)
$(FONTS): scripts/install-fonts.sh | $(STAMP)
	PY=$(PY) scripts/install-fonts.sh

install: $(STAMP) $(FONTS)

demo: $(STAMP) $(FONTS)
	DJANGO_SETTINGS_MODULE=zhengtong.settings.dev $(PY) manage.py migrate --noinput
	DJANGO_SETTINGS_MODULE=zhengtong.settings.dev $(PY) manage.py load_default_flows
	DJANGO_SETTINGS_MODULE=zhengtong.settings.dev $(PY) manage.py seed_demo --if-empty
	HOST=$(HOST) PORT=$(PORT) PY=$(PY) scripts/run-demo.sh

test: $(STAMP) $(FONTS)
	$(PY) -m pytest -q -n 2 --dist loadfile $(PYTEST_ARGS)

test-fast: $(STAMP) $(FONTS)
	$(PY) -m pytest -q -m "not browser" $(PYTEST_ARGS)

bench: $(STAMP) $(FONTS)
	$(PY) bench/run.py
	$(PY) bench/pdf_bench.py
	$(PY) bench/seal_bench.py
	$(PY) bench/exchange_bench.py
	$(PY) bench/federation_bench.py   # two instances, 1,000 envelopes of 1 MB
	$(PY) bench/federation_bench.py --algorithm sm2   # the same in 国密 mode (SM2/SM3)
	$(PY) bench/notify_bench.py   # 10,000 notifications to a local gateway; the live count p95 (production: DATABASE_URL=… REDIS_URL=… the same)
	$(PY) bench/search_bench.py --backend sqlite   # PostgreSQL 1M: bench/search_bench.py --backend postgresql

screenshots: $(STAMP) $(FONTS)
	SHOTS_DIR=var/screenshots $(PY) -m pytest -q -n 2 --dist loadfile -m browser $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench

docs: $(STAMP)
	DJANGO_SETTINGS_MODULE=zhengtong.settings.dev $(PY) manage.py config_docs

clean-db:
	rm -f var/zhengtong.sqlite3* var/huey.sqlite3*
