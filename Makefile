# Two set-up commands: `make lab` and `make test`. Both create .venv and install on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# A student's lab installs the notebooks extra only; tests, `make notebooks` and the book install
# everything (a superset, so that install stamps both).
LAB_STAMP := $(VENV)/.installed-lab
DEV_STAMP := $(VENV)/.installed-dev
TOY    := data/toycity
BOOK   := build/book
KERNEL := ccdistill
# JupyterLab refuses to start as root unless told to, and containers often run as root.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)

.PHONY: help install test lab book demo bench toy notebooks release grade clean

help:
	@echo "make lab    - install into .venv, generate ToyCity, register the 'ccdistill' kernel, start JupyterLab on notebooks/"
	@echo "make test   - install into .venv (with the test and book extras) and run the whole test suite (what CI runs)"
	@echo "make book   - build the course site from the stored notebooks and docs into $(BOOK)/html (nothing executed)"
	@echo "make demo   - train the 'cpu' profile on ToyCity end to end and print per-class IoU"
	@echo "make bench  - run the benchmark scripts in benchmarks/"
	@echo "make notebooks - re-execute every notebook under the cpu profile, store it, regenerate student copies"
	@echo "make release - write the student release (no solutions, no hidden tests) into $(RELEASE)"
	@echo "make grade SUBMISSIONS=DIR - grade DIR/<student>/NN_topic.ipynb into points per exercise ($(GRADES))"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall only when the dependency list changes.
$(LAB_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -e ".[notebooks]"
	touch $@

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -e ".[notebooks,test,book]"
	touch $@ $(LAB_STAMP)

install: $(DEV_STAMP)

$(TOY)/manifest.json: | $(LAB_STAMP)
	$(BIN)/ccdistill data toy --root $(TOY)

toy: $(TOY)/manifest.json

# The notebooks run under the ci profile (seconds) in the venv's kernel; nbval only reads them.
test: $(DEV_STAMP)
	CCDISTILL_PROFILE=ci $(BIN)/python -m pytest tests notebooks --nbval-lax --nbval-current-env --durations=15

# Store every notebook as one clean top-to-bottom run under the cpu profile (what a reader sees),
# then regenerate notebooks/students/ from the solutions.
notebooks: $(DEV_STAMP)
	$(BIN)/ccdistill notebooks execute --profile cpu
	$(BIN)/ccdistill notebooks students

# Graded exercises (ccdistill/notebook/exercises.py and grading.py, nbgrader's metadata): the student release, and the
# grading of a folder of submissions (each in a fresh kernel under the ci profile) into a CSV.
RELEASE ?= build/release
GRADES  ?= build/grades.csv
release: $(DEV_STAMP)
	$(BIN)/python -m ccdistill notebooks release --output $(RELEASE)

grade: $(DEV_STAMP)
	@test -n "$(SUBMISSIONS)" || { echo "make grade SUBMISSIONS=DIR (DIR/<student>/NN_topic.ipynb)"; exit 2; }
	$(BIN)/python -m ccdistill notebooks grade $(SUBMISSIONS) --output $(GRADES)

# The kernel is registered for the user, so other front ends (VS Code, a system JupyterLab) offer it.
lab: $(LAB_STAMP) $(TOY)/manifest.json
	$(BIN)/python -m ipykernel install --user --name $(KERNEL) --display-name "Python (ccdistill)" >/dev/null \
		|| echo "make lab: could not register the '$(KERNEL)' kernel; the notebooks' Python 3 kernel is this venv's anyway"
	@$(if $(ALLOW_ROOT),echo "make lab: running as root; JupyterLab starts with --allow-root")
	$(BIN)/jupyter lab $(ALLOW_ROOT) notebooks/

# The course site (book/conf.py): README, docs/METHOD.md, docs/RESULTS.md and the notebooks as stored.
book: $(DEV_STAMP)
	$(BIN)/sphinx-build -b html -c book -q . $(BOOK)/html
	@echo "the course site: $(BOOK)/html/index.html"

# The two stages of the recipe (docs/TRAINING.md): source_only, then full warm-started from it.
demo: $(LAB_STAMP) $(TOY)/manifest.json
	$(BIN)/ccdistill train --config toycity profile=cpu variant=source_only data.root=$(TOY) output=runs/demo_source_only
	$(BIN)/ccdistill train --config toycity profile=cpu variant=full data.root=$(TOY) output=runs/demo \
		model.init_checkpoint=runs/demo_source_only/deploy.pt loss.pseudo_warmup_fraction=0
	$(BIN)/ccdistill eval --checkpoint runs/demo/deploy.pt --config toycity --split test --output runs/demo/eval data.root=$(TOY)

# The figures of the README's performance section (about 30 minutes on 2 CPU cores).
bench: $(LAB_STAMP)
	for f in benchmarks/bench_*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done
	$(BIN)/ccdistill bench --repeats 20 --which inference
	$(BIN)/ccdistill bench --skip-paper --repeats 20 --which step
	$(BIN)/ccdistill bench --repeats 6 --which step

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
