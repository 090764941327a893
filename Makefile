# Set-up and the two entry points of the README: `make demo`, `make test`.
# Everything the project needs is installed from here (PyPI and Debian packages by name).

VENV ?= .venv
PYTHON ?= python3.11
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
FSDD ?= ../shared/data/fsdd
# Debian packages: libusb for tflite-support's metadata library (espeak-ng data comes
# from the espeakng-loader wheel); a JDK and JUnit 4 for the Android demo's pure-Java core.
APT_PACKAGES := libusb-1.0-0 default-jdk-headless junit4
JAVA_CP := /usr/share/java/junit4.jar:/usr/share/java/hamcrest-core.jar
CORE_BUILD := build/android-core

.PHONY: install demo test clean system-packages android-core-test

install: $(STAMP)

$(STAMP): setup.py
	$(MAKE) system-packages
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	# tflite-support pins protobuf<4, which TF 2.21 cannot use: install it without deps.
	$(PY) -m pip install --quiet --no-deps tflite-support==0.4.4
	touch $(STAMP)

system-packages:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

# The main job on the embedded default data (FSDD beside the project + espeak-ng):
# parameter accounting, then data -> train -> evaluate of the default ResidualTransformer.
demo: install
	$(VENV)/bin/rt-keras params --preset paper --group-size 3 --rank 16
	$(VENV)/bin/rt-keras pipeline --config configs/rt.yaml --out runs/rt

test: install
	$(PY) -m pytest -q tests

# JUnit tests of the Android demo's pure-Java core, Java 8 language level, plain javac.
# GOLDEN=DIR: parity fixtures from the real .tflite (written by tests/test_android_core.py);
# REPORT=FILE: where the sample phone footprint report goes (validated against the schema).
android-core-test: system-packages
	rm -rf $(CORE_BUILD) && mkdir -p $(CORE_BUILD)
	javac --release 8 -Xlint:all -Xlint:-options -encoding UTF-8 -d $(CORE_BUILD) -cp $(JAVA_CP) \
	  $$(find android_demo/core/src -name '*.java')
	java -cp $(CORE_BUILD):$(JAVA_CP) -Drt_keras.golden.dir=$(GOLDEN) -Drt_keras.report.out=$(REPORT) \
	  org.junit.runner.JUnitCore \
	  org.rtkeras.demo.core.CoreTest $(if $(GOLDEN),org.rtkeras.demo.core.GoldenTest)

clean:
	rm -rf $(VENV) build *.egg-info
