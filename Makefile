# `make run` and `make test` are the README's two commands: each creates the virtual environment when missing.
PYTHON ?= python3
# The dashboard's port: `make run PORT=8601` when 8501 is taken.
PORT ?= 8501
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run demo test fetch dashboard bench clean

# pip lists each package as it goes: the first set-up takes a minute or two, and silence would look like a hang.
$(BIN)/tracker: pyproject.toml
	@echo "setting up $(VENV): the tracker and its dependencies (a minute or two the first time)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --progress-bar on -e '.[dev]'
	touch $(BIN)/tracker

# A taken port is said first, before minutes of fetching. A failed fetch (no network, NCBI down) has said why in
# one line; the dashboard still serves what is stored.
run: $(BIN)/tracker
	$(BIN)/tracker dashboard --port $(PORT) --check-port
	$(BIN)/tracker fetch || true
	$(BIN)/tracker dashboard --port $(PORT)

# Try it without PubMed: synthetic records from a stand-in on this machine, in data/demo.sqlite, then the dashboard.
demo: $(BIN)/tracker
	$(BIN)/tracker demo --port $(PORT)

fetch: $(BIN)/tracker
	$(BIN)/tracker fetch

dashboard: $(BIN)/tracker
	$(BIN)/tracker dashboard --port $(PORT)

test: $(BIN)/tracker
	$(BIN)/python -m pytest -q

bench: $(BIN)/tracker
	for script in bench/bench_*.py; do $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) *.egg-info
