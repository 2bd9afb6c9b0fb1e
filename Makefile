# Two set-up commands: `make lab` and `make test`. Both create .venv and install on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TOY    := data/toycity

.PHONY: help install test lab demo bench toy notebooks clean

help:
	@echo "make lab    - install into .venv, generate ToyCity, start JupyterLab on notebooks/"
	@echo "make test   - install into .venv and run the whole test suite (what CI runs)"
	@echo "make demo   - train the 'cpu' profile on ToyCity end to end and print per-class IoU"
	@echo "make bench  - run the benchmark scripts in benchmarks/"
	@echo "make notebooks - re-execute every notebook under the cpu profile, store it, regenerate student copies"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall only when the dependency list changes.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -e ".[notebooks,test]"
	touch $(STAMP)

install: $(STAMP)

$(TOY)/manifest.json: | $(STAMP)
	$(BIN)/ccdistill data toy --root $(TOY)

toy: $(TOY)/manifest.json

# The notebooks run under the ci profile (seconds) in the venv's kernel; nbval only reads them.
test: $(STAMP)
	CCDISTILL_PROFILE=ci $(BIN)/python -m pytest tests notebooks --nbval-lax --nbval-current-env --durations=15

# Store every notebook as one clean top-to-bottom run under the cpu profile (what a reader sees),
# then regenerate notebooks/students/ from the solutions.
notebooks: $(STAMP)
	$(BIN)/ccdistill notebooks execute --profile cpu
	$(BIN)/ccdistill notebooks students

lab: $(STAMP) $(TOY)/manifest.json
	$(BIN)/jupyter lab notebooks/

# The two stages of the recipe (docs/TRAINING.md): source_only, then full warm-started from it.
demo: $(STAMP) $(TOY)/manifest.json
	$(BIN)/ccdistill train --config toycity profile=cpu variant=source_only data.root=$(TOY) output=runs/demo_source_only
	$(BIN)/ccdistill train --config toycity profile=cpu variant=full data.root=$(TOY) output=runs/demo \
		model.init_checkpoint=runs/demo_source_only/deploy.pt loss.pseudo_warmup_fraction=0
	$(BIN)/ccdistill eval --checkpoint runs/demo/deploy.pt --config toycity --split test --output runs/demo/eval data.root=$(TOY)

# The figures of the README's performance section (about 30 minutes on 2 CPU cores).
bench: $(STAMP)
	for f in benchmarks/bench_*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done
	$(BIN)/ccdistill bench --repeats 20 --which inference
	$(BIN)/ccdistill bench --skip-paper --repeats 20 --which step
	$(BIN)/ccdistill bench --repeats 6 --which step

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
