# Everything a newcomer needs: `make demo` runs the main job end to end, `make test` the tests.
HOST_PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CLI := $(VENV)/bin/lambda-tabular
# Downloads (wheels, the Lambda emulator, scikit-learn releases) stay in the checkout.
export LAMBDA_TABULAR_CACHE ?= $(CURDIR)/.cache
RIE := $(LAMBDA_TABULAR_CACHE)/aws-lambda-rie

DEMO_IMAGE := lambda-tabular/water-quality:demo

.PHONY: demo test test-fast lint venv examples models image zip engine bench bump docs clean

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml requirements-runtime.txt requirements-build.txt requirements-catboost.txt requirements-dev.txt deploy/package/lambda-client.txt
	test -x $(PY) || $(HOST_PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --editable .
	$(PY) -m pip check
	touch $@

# The real AWS Lambda Runtime Interface Emulator ships inside the aws-sam-cli wheel.
$(RIE): | venv
	$(PY) -m lambda_tabular.deploy.local.rie

examples: venv
	$(PY) -m lambda_tabular.convert.examples --out build/examples

models: examples
	$(CLI) convert build/examples/churn.joblib --out build/models/churn --sample build/examples/churn_sample.csv --name churn
	$(CLI) convert build/examples/water_quality.json --out build/models/water_quality --sample build/examples/water_quality_sample.csv --name water_quality

engine: venv
	$(CLI) engine

# make image MODEL=path/to/model TAG=name [ARCH=x86_64|arm64] [PYTHON=3.12|3.13|3.14] [BASE_IMAGE=...] [SAMPLE=rows.csv]
image: venv
	@test -n "$(MODEL)" -a -n "$(TAG)" || { echo "usage: make image MODEL=path/to/model TAG=name:tag [ARCH=x86_64|arm64]"; exit 2; }
	$(CLI) image $(MODEL) --tag $(TAG) $(if $(ARCH),--arch $(ARCH)) $(if $(PYTHON),--python $(PYTHON)) $(if $(BASE_IMAGE),--base $(BASE_IMAGE)) $(if $(SAMPLE),--sample $(SAMPLE))

# make zip MODEL=path/to/model ZIP=out.zip [PYTHON=3.12|3.13|3.14] [ARCH=x86_64|arm64] [SAMPLE=rows.csv]
zip: venv
	@test -n "$(MODEL)" -a -n "$(ZIP)" || { echo "usage: make zip MODEL=path/to/model ZIP=out.zip [PYTHON=3.12|3.13|3.14] [ARCH=x86_64|arm64]"; exit 2; }
	$(CLI) zip $(MODEL) --out $(ZIP) $(if $(PYTHON),--python $(PYTHON)) $(if $(ARCH),--arch $(ARCH)) $(if $(SAMPLE),--sample $(SAMPLE))

demo: models
	$(CLI) image build/examples/water_quality.json --tag $(DEMO_IMAGE) --sample build/examples/water_quality_sample.csv --name water_quality
	$(CLI) run $(DEMO_IMAGE) --payload @build/examples/water_quality_request.json --payload '{"instances": [{"ph": 7.0}]}'
	$(CLI) bench --quick --out build/bench

# The full benchmark (about 10 minutes); its results are committed under bench/results/.
bench: models
	$(CLI) bench --out bench/results
	$(PY) -m lambda_tabular.bench.families --out bench/results/families

test: venv $(RIE)
	$(PY) -m pytest

# The tests that need neither Docker nor more than a few seconds each, on both cores; and the linter.
test-fast: venv lint
	$(PY) -m pytest -m "not docker and not slow" -n 2

lint: venv
	$(PY) -m ruff check .

# Every pin that is behind and not held moves to the newest release; then what proves the new
# set: a clean install, the whole suite and the coverage table. Re-run `make bench` after it.
bump: venv
	$(PY) -m tests.pins --write
	$(MAKE) venv test
	$(PY) -m tests.convert.coverage --write

# The documentation site (mkdocs.yml, docs/), built as CI checks it: any warning fails.
docs: venv
	$(PY) -m mkdocs build --strict --site-dir build/site

clean:
	rm -rf build .cache .pytest_cache
