# inpaint_lightning — `make help` lists targets. Everything runs inside .venv (created on first use).
# Any Python >= 3.11 (pyproject.toml); python3.11 when present, else python3. Override: make test PYTHON=python3.12
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3 2>/dev/null || echo python3)
VENV := .venv
PY := $(VENV)/bin/python
SHARED := ../shared
# `make fit` = configs/gan.yaml + configs/first_run.yaml (400 steps at 64 px); FIT_ARGS adds or overrides single flags
FIT_CONFIGS ?= --config configs/gan.yaml --config configs/first_run.yaml
FIT_ARGS ?=

.DEFAULT_GOAL := help
# pytest-xdist processes for `make test` (most tests run one torch thread each); 1 = a single process
TEST_WORKERS ?= 2

.PHONY: help install weights fit test lint format learning-check realism clean browser-deps strip-notebooks

help:  ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*## "}{printf "  %-16s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "needs Python >= 3.11 (set PYTHON=...)"; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "$(PYTHON) is older than 3.11 (set PYTHON=...)"; exit 1; }
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

install: $(VENV)/.installed  ## create .venv and install the project with dev tools

weights: install  ## offline only: put LPIPS/VGG ImageNet weights from ../shared into the torch cache
	@if [ -f $(SHARED)/weights/install_torch_hub_cache.py ]; then $(PY) $(SHARED)/weights/install_torch_hub_cache.py; \
	else echo "no $(SHARED): torchvision downloads the weights on first use"; fi

fit: install weights  ## first CPU training run on the embedded photos (gan.yaml + first_run.yaml + FIT_ARGS)
	$(PY) -m inpaint_lightning fit $(FIT_CONFIGS) $(FIT_ARGS)

test: install weights browser-deps  ## run the test suite (installs the headless browser its page test needs)
	$(PY) -m pytest -q -n $(TEST_WORKERS)

browser-deps: install  ## a headless Chromium for the page test: Debian's (apt), else Playwright's; skipped when present
	@if [ -n "$$CHROMIUM" ] && [ -x "$$CHROMIUM" ]; then echo "chromium: $$CHROMIUM"; \
	elif command -v chromium >/dev/null || [ -x /usr/bin/chromium ]; then echo "chromium already installed"; \
	elif command -v apt-get >/dev/null; then \
		SUDO=$$( [ "$$(id -u)" -eq 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium chromium-driver; \
	else $(PY) -m playwright install chromium; fi

learning-check: install weights  ## train briefly on CPU; print val PSNR/SSIM/LPIPS at start and end vs Telea
	$(PY) benchmarks/learning_check.py

REALISM_MINUTES ?= 60
realism: install weights  ## benchmark: train REALISM_MINUTES on ../shared photos, score at 256/512 px vs Telea/NS/PatchMatch
	$(PY) benchmarks/realism.py --minutes $(REALISM_MINUTES) $(REALISM_ARGS)

lint: install  ## ruff check
	$(VENV)/bin/ruff check inpaint_lightning tests scripts benchmarks

format: install  ## ruff format + autofix
	$(VENV)/bin/ruff format inpaint_lightning tests scripts benchmarks
	$(VENV)/bin/ruff check --fix inpaint_lightning tests scripts benchmarks

strip-notebooks: install  ## remove outputs and execution counts from notebooks/*.ipynb (before committing)
	$(PY) scripts/strip_notebooks.py

clean:  ## remove logs, caches and build files (keeps .venv)
	rm -rf logs wandb lightning_logs .pytest_cache .ruff_cache build dist *.egg-info
	find . -name __pycache__ -not -path './$(VENV)/*' -prune -exec rm -rf {} +
