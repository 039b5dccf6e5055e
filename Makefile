# The two commands of the README, plus helpers. Each target sets up what it needs first
# (scripts/setup.sh is idempotent: a second run only checks).
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
export MUJOCO_GL ?= egl
export XDG_CACHE_HOME ?= /tmp/embodied_stack_xdg_cache
export HF_HUB_OFFLINE := 1

.PHONY: setup demo test bench doctor lock clean

setup:
	@scripts/setup.sh

## demo: the stack in simulation (sim bridge -> perception -> VLA policy), headless; writes a video
demo: setup
	$(VENV)/bin/embodied-stack demo

## test: the whole suite on 2 workers (each gets its own ROS_DOMAIN_ID)
test: setup
	$(PY) -m pytest -n 2 --durations=15 $(PYTEST_ARGS)

## bench: every benchmark, each printing a table
bench: setup
	@for b in bench/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

doctor: setup
	$(VENV)/bin/embodied-stack doctor

lock:
	scripts/lock.sh

clean:
	rm -rf $(VENV) .build
