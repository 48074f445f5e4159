# inpaint_lightning — `make help` lists targets. Everything runs inside .venv (created on first use).
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
SHARED := ../shared
FIT_ARGS ?= --trainer.max_steps 400 --data.image_size 64 --trainer.val_check_interval 100

.DEFAULT_GOAL := help
.PHONY: help install weights fit test lint format learning-check clean browser-deps strip-notebooks

help:  ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*## "}{printf "  %-16s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "needs $(PYTHON) (set PYTHON=...)"; exit 1; }
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

install: $(VENV)/.installed  ## create .venv and install the project with dev tools

weights: install  ## offline only: put LPIPS/VGG ImageNet weights from ../shared into the torch cache
	@if [ -f $(SHARED)/weights/install_torch_hub_cache.py ]; then $(PY) $(SHARED)/weights/install_torch_hub_cache.py; \
	else echo "no $(SHARED): torchvision downloads the weights on first use"; fi

fit: install weights  ## short CPU training run on the embedded photos (configs/gan.yaml + FIT_ARGS)
	$(PY) -m inpaint_lightning fit --config configs/gan.yaml $(FIT_ARGS)

test: install weights  ## run the test suite
	$(PY) -m pytest -q

browser-deps:  ## Debian's chromium + chromium-driver for the browser test (apt; skipped when installed)
	@if [ -x /usr/bin/chromium ]; then echo "chromium already installed"; else \
		SUDO=$$( [ "$$(id -u)" -eq 0 ] || echo sudo ); \
		$$SUDO apt-get update && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y chromium chromium-driver; fi

learning-check: install weights  ## train briefly on CPU; print val PSNR/SSIM/LPIPS at start and end vs Telea
	$(PY) scripts/learning_check.py

lint: install  ## ruff check
	$(VENV)/bin/ruff check inpaint_lightning tests scripts

format: install  ## ruff format + autofix
	$(VENV)/bin/ruff format inpaint_lightning tests scripts
	$(VENV)/bin/ruff check --fix inpaint_lightning tests scripts

strip-notebooks: install  ## remove outputs and execution counts from notebooks/*.ipynb (before committing)
	$(PY) scripts/strip_notebooks.py

clean:  ## remove logs, caches and build files (keeps .venv)
	rm -rf logs wandb lightning_logs .pytest_cache .ruff_cache build dist *.egg-info
	find . -name __pycache__ -not -path './$(VENV)/*' -prune -exec rm -rf {} +
