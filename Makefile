# Setup and checks. `make install` then `make test`; see README.md.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install test test-fast lint proto bench clean

# torch first, from the CPU build these machines carry: a plain `torch` requirement on a machine
# without it would pull the CUDA build (several GB). Then both distributions, editable: the client
# with its report, MLflow and dev extras (its build compiles proto/ into client/embedding_advisor/v1/)
# and the server with the CPU ONNX Runtime; then buf.
install:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e ".[report,mlflow,dev]" -e "./server[cpu]"
	@if command -v npm >/dev/null 2>&1; then npm install --no-audit --no-fund --loglevel=error; \
	else echo "npm not found: skipping buf (proto lint)"; fi

# Everything: unit, integration (real models, a real server) and e2e (subprocesses). CI runs this.
test:
	$(BIN)/python -m pytest

# The unit tier alone (tests/unit: stand-in models, no server), for quick checks while working.
test-fast:
	$(BIN)/python -m pytest tests/unit

lint:
	$(BIN)/ruff check client server tests benchmarks scripts hatch_build.py
	node_modules/.bin/buf lint proto

# Regenerate the protobuf modules after editing proto/: the editable reinstall runs the build
# hook (hatch_build.py) with its build requirements, which the venv itself does not carry.
proto:
	$(BIN)/python -m pip install --quiet --no-deps -e .

bench:
	$(BIN)/python benchmarks/advise_walltime.py
	$(BIN)/python benchmarks/profile_speed.py
	$(BIN)/python benchmarks/ort_throughput.py
	$(BIN)/python benchmarks/calibration.py
	$(BIN)/python benchmarks/suite_time.py

clean:
	rm -rf $(VENV) node_modules build dist client/embedding_advisor/v1/*_pb2*
