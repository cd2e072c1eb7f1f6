# greenlight: every target sets up what it needs, so a fresh machine needs only `make <target>`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SAM_VENV := .venv-sam
SAM := $(SAM_VENV)/bin/sam
# sam build needs the Lambda runtime's interpreter (python3.13) on PATH.
PY313 ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.13*/bin) $(dir $(shell command -v python3.13 2>/dev/null)))

.DEFAULT_GOAL := help
.PHONY: help venv demo test lint validate build bench dist clean lambda-image sam-local

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

$(SAM_VENV)/.installed:
	test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install -q aws-sam-cli
	touch $@

venv: $(VENV)/.installed ## create .venv with greenlight and its dev tools

demo: $(VENV)/.installed $(SAM_VENV)/.installed ## play a good and a bad deployment on the local twin
	$(PY) -m greenlight_twin.demo --template template.yaml --spec examples/twin/demo.yaml

# The SAM CLI's environment is a test dependency too: `sam validate` runs in a test, and the twin takes
# the Lambda Runtime Interface Emulator from the aws-sam-cli package.
# PYTEST_ARGS narrows or extends the run (make test PYTEST_ARGS='tests/unit -x'); a run that collects no
# test at all (pytest's exit status 5) is a failure, named as such, never a pass.
test: $(VENV)/.installed $(SAM_VENV)/.installed ## run the whole test suite
	@echo "$(PY) -m pytest -q $(PYTEST_ARGS)"; rc=0; $(PY) -m pytest -q $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests ($(or $(PYTEST_ARGS),the whole suite))" >&2; fi; \
	exit $$rc

# ruff over the whole tree; mypy over the packages and the sample service ([tool.mypy] files).
lint: $(VENV)/.installed ## ruff and mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

validate: $(SAM_VENV)/.installed ## sam validate --lint on template.yaml
	SAM_CLI_TELEMETRY=0 $(SAM) validate --lint --template template.yaml

# ARCH sets the functions' Architecture for this build (default: the template's, arm64); ARCH=host takes
# this machine's, to run the build here. The dependency layer holds both architectures' wheels either way.
ARCH ?=
BUILD_ARCH = $(if $(filter host,$(ARCH)),$(if $(filter aarch64 arm64,$(shell uname -m)),arm64,x86_64),$(ARCH))
build: $(SAM_VENV)/.installed ## sam build: functions and the dependency layer, compiled for python3.13 (ARCH=x86_64|arm64|host)
	PATH="$(PY313):$$PATH" SAM_CLI_TELEMETRY=0 $(SAM) build --template template.yaml \
	  $(if $(BUILD_ARCH),--parameter-overrides Architecture=$(BUILD_ARCH))

# The Lambda image sam local runs the functions in: SAM's own when it can be pulled, else one built from Debian
# packages (scripts/lambda-image). Needs a Docker engine: scripts/docker-engine starts one where none answers
# (and stops it again after the target). ARCH=host (default), x86_64 or arm64 (refused where it cannot run).
lambda-image: ## the python3.13 Lambda image for sam local (Docker; ARCH=host|x86_64|arm64)
	scripts/docker-engine run scripts/lambda-image $(or $(ARCH),host)

# Every hook function of template.yaml through `sam local invoke`, against the twin's live deployments (a good
# and a bad green under each controller), reached over the Docker bridge. Builds for this machine's architecture
# into .aws-sam-local/ (make build's .aws-sam/ is left alone).
sam-local: $(VENV)/.installed $(SAM_VENV)/.installed ## sam local invoke every hook function against the twin (Docker)
	scripts/docker-engine run bash -c 'image="$$(scripts/lambda-image $(or $(ARCH),host))" && \
	  SAM_CLI_TELEMETRY=0 $(PY) scripts/sam_local.py --image "$$image" $(SAM_LOCAL_ARGS)'

# The bundle figures measure .aws-sam/build as `make build` leaves it, run by the runtime's Python.
bench: $(VENV)/.installed build ## figures: bundle size, cold/warm invocation and CPU against a naive hook, engine concurrency
	$(PY) bench/run.py --python "$(PY313)/python3.13"

# The wheel is built from the sdist (python -m build's default), so a file the sdist lacks fails here.
dist: $(VENV)/.installed ## build the sdist and the wheel of ecs-greenlight into dist/
	rm -rf dist
	$(PY) -m build --outdir dist .

clean: ## remove virtual environments and build output
	rm -rf $(VENV) $(SAM_VENV) .aws-sam .aws-sam-local .twin dist build *.egg-info
