# The README's two commands are `make run` and `make test`; each builds .venv on first use.
VENV   := .venv
PYTHON ?= python3
BIN    := $(VENV)/bin
RUN_STAMP  := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run test test-fast test-js lint format clean assets translations screenshots

$(BIN)/pip:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(RUN_STAMP): setup.cfg pyproject.toml | $(BIN)/pip
	$(BIN)/pip install --quiet -e .
	touch $@

$(TEST_STAMP): setup.cfg pyproject.toml | $(BIN)/pip
	$(BIN)/pip install --quiet -e '.[test,dev]'
	touch $@ $(RUN_STAMP)

## run: the embedded default on http://127.0.0.1:5000/chat (SQLite + in-process broker)
run: $(RUN_STAMP)
	$(BIN)/python wsgi.py

## test: the whole suite (Python, then the browser modules' unit tests under Node), on
##       TEST_WORKERS pytest processes (pytest-xdist; 2 by default, TEST_WORKERS=1 for one)
TEST_WORKERS ?= 2
XDIST = $(if $(filter-out 1,$(TEST_WORKERS)),-n $(TEST_WORKERS) --dist worksteal)
test: $(TEST_STAMP) test-js
	$(BIN)/pytest $(XDIST)

## test-fast: the edit-test loop: no live server, no browser, no Node, SQLite + in-process broker only
test-fast: $(TEST_STAMP)
	@start=$$(date +%s); \
	env -u DEVTONE_TEST_DATABASE_URL -u DEVTONE_TEST_REDIS_URL -u CI \
	  $(BIN)/pytest -q -p no:cacheprovider $(XDIST) -m "not live and not browser and not node" $(ARGS); status=$$?; \
	echo "make test-fast: $$(( $$(date +%s) - start )) s"; exit $$status

test-js:
	@if command -v node >/dev/null 2>&1; then node --test tests/js/; \
	elif [ "$$CI" = "true" ]; then echo "CI needs node for tests/js" >&2; exit 1; \
	else echo "node not found: skipping tests/js (the browser tests still run)"; fi

lint: $(TEST_STAMP)
	$(BIN)/ruff format --check devtone tests wsgi.py
	$(BIN)/ruff check devtone tests wsgi.py
	$(BIN)/lint-imports

format: $(TEST_STAMP)
	$(BIN)/ruff format devtone tests wsgi.py
	$(BIN)/ruff check --fix devtone tests wsgi.py

## translations: find every text in templates, Python and static/js; update translations/*.po
##               (new texts arrive empty, changed ones fuzzy) and compile the server's .mo
translations: $(TEST_STAMP)
	$(BIN)/python -m devtone.catalogues update

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .ruff_cache node_modules

## assets: bundle, minify, fingerprint and precompress the front-end (esbuild, pinned in
##         package-lock.json) into devtone/static/build/, which is committed: `make run`
##         serves it without Node. Run it after changing anything under devtone/static/.
ASSETS_OUT ?= devtone/static/build
NODE_DEPS  := node_modules/.package-lock.json

# npm writes this file on every install; --ignore-scripts: esbuild's binary comes in its
# platform package (@esbuild/linux-x64 and kin) and needs no install script.
$(NODE_DEPS): package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund
	touch $@

assets: $(NODE_DEPS)
	node tools/build-assets.mjs $(ASSETS_OUT)

## screenshots: docs/screenshots/ again (the chat page, the widget closed, open and on a
##              phone, the dashboard; light and dark; en and pt-BR): devtone on a loopback
##              port with a throwaway SQLite database, Debian's Chromium via Playwright
screenshots: $(TEST_STAMP)
	$(BIN)/python tools/screenshots.py

## bench: one gevent worker against flask-sse and nchan (when installed), tables and PNG
##        charts (BENCH=full: every size and stack;
##        BENCH_ARGS="--devtone-ref REF" measures a commit instead of the work tree)
.PHONY: bench
BENCH_STAMP := $(VENV)/.installed-bench
$(BENCH_STAMP): setup.cfg pyproject.toml | $(BIN)/pip
	$(BIN)/pip install --quiet -e '.[bench]'
	touch $@

bench: $(BENCH_STAMP)
	$(BIN)/python -m bench --profile $(or $(BENCH),quick) $(BENCH_ARGS)

## bench-search: search p50/p95 on 100,000 messages in 10,000 conversations, on SQLite and
##               on PostgreSQL (a database devtone_bench_search it creates and drops;
##               DEVTONE_BENCH_PG_ADMIN_URL names the server); figures in docs/performance.md
.PHONY: bench-search
bench-search: $(TEST_STAMP)
	$(BIN)/python -m bench.search $(BENCH_SEARCH_ARGS)
