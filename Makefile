# Everything a newcomer needs: `make demo` runs the main job end to end, `make test` the tests.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SAM_CLI_VERSION := 1.170.0
RIE := .cache/aws-lambda-rie
ARCH := $(shell uname -m | sed -e 's/aarch64/arm64/')

.PHONY: demo test venv examples models clean

venv: $(VENV)/.installed

$(VENV)/.installed: requirements-runtime.txt requirements-build.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

# The real AWS Lambda Runtime Interface Emulator ships inside the aws-sam-cli wheel.
$(RIE):
	mkdir -p .cache/sam
	$(PY) -m pip download --quiet --no-deps --disable-pip-version-check aws-sam-cli==$(SAM_CLI_VERSION) -d .cache/sam
	$(PY) -c "import zipfile,sys; z=zipfile.ZipFile(sys.argv[1]); open(sys.argv[2],'wb').write(z.read('samcli/local/rapid/aws-lambda-rie-$(ARCH)'))" .cache/sam/aws_sam_cli-$(SAM_CLI_VERSION)-py3-none-any.whl $@
	chmod +x $@

examples: venv
	$(PY) -m convert.examples --out build/examples

models: examples
	$(PY) -m convert build/examples/churn.joblib --out build/models/churn --sample build/examples/churn_sample.csv --name churn
	$(PY) -m convert build/examples/water_quality.json --out build/models/water_quality --sample build/examples/water_quality_sample.csv --name water_quality

demo: models

test: venv $(RIE)
	$(PY) -m pytest

clean:
	rm -rf build .cache .pytest_cache
