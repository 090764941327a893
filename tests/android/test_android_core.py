"""The Android demo's pure-Java core: JUnit tests through plain javac/java (Debian's
JUnit 4), and golden parity with the Python side: the real .tflite run by ai-edge-litert
on real FSDD audio writes the fixtures the Java PCM conversion and CTC decoder must match.

The golden model is the tiny test run's qat-int8 model (RT_KERAS_GOLDEN_MODEL=FILE.tflite
uses another one, e.g. runs/rt/model-qat-int8.tflite). The tiny model, trained for two
epochs, transcribes nothing, so the decoder is also checked on a real trained model's
output: the committed fixture demo-golden.json (benchmarks/android_golden.py), whose
transcript is not empty."""

import json
import os
import pathlib
import re
import shutil
import struct
import subprocess
import zipfile

import numpy as np
import pytest
import soundfile

from converters.footprint import load_report, validate
from converters.footprint_probe import BENCHMARK
from converters.footprint_probe import test_audio as benchmark_audio
from converters.metadata import read_metadata
from converters.runner import TFLiteModel
from rt_keras.core.contracts import greedy_decode, pcm_to_float
from rt_keras.core.vocabulary import decode_ids
from tests.helpers import FSDD, requires_fsdd

ROOT = pathlib.Path(__file__).parents[2]
JAVA_SOURCES = sorted((ROOT / "android_demo").rglob("*.java"))

DEMO_GOLDEN = ROOT / "android_demo" / "core" / "src" / "test" / "resources" / "org" / "rtkeras" / "demo" / "core" / \
    "demo-golden.json"


def numpy_model_input(samples: np.ndarray, rate: int, model_rate: int) -> np.ndarray:
    """What the Java core must compute: int16 / PCM_SCALE, linear interpolation to the model's rate."""
    audio = pcm_to_float(samples)
    count = len(audio) * model_rate // rate
    return np.interp(np.arange(count) * rate / model_rate, np.arange(len(audio)), audio).astype(np.float32)


def run_core_tests(**variables) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "-s", "-C", str(ROOT), "android-core-test",
                           *(f"{key}={value}" for key, value in variables.items())], capture_output=True, text=True)


@pytest.fixture(scope="module")
def golden(tiny_converted, tmp_path_factory):
    directory = tmp_path_factory.mktemp("golden")
    override = os.environ.get("RT_KERAS_GOLDEN_MODEL")
    model = pathlib.Path(override).read_bytes() if override else tiny_converted.shipped["qat-int8"]
    metadata = read_metadata(model)
    (directory / "model.tflite").write_bytes(model)
    source = pathlib.Path(FSDD) / "recordings" / "7_theo_3.wav"
    shutil.copy(source, directory / "audio.wav")
    samples, rate = soundfile.read(source, dtype="int16")
    (directory / "sample_rate.txt").write_text(f"{metadata['sample_rate']}\n")
    model_input = numpy_model_input(samples, rate, metadata["sample_rate"])
    np.savetxt(directory / "model_input.txt", model_input, fmt="%.9g")
    log_probs = TFLiteModel(model)(model_input[None])[0]
    np.savetxt(directory / "log_probs.txt", log_probs, fmt="%.9g")
    samples_2s = int(BENCHMARK["seconds"] * 16000)
    np.savetxt(directory / "benchmark_signal.txt", benchmark_audio(samples_2s, 16000)[0], fmt="%.9g")
    vocabulary = metadata["vocabulary"]
    (directory / "vocabulary.txt").write_text("\n".join(vocabulary) + "\n")
    (directory / "transcript.txt").write_text(" ".join(vocabulary[i] for i in greedy_decode(log_probs)) + "\n")
    return directory


@requires_fsdd
def test_core_junit_and_golden_parity(golden, tmp_path):
    phone_report = tmp_path / "phone.json"
    result = run_core_tests(GOLDEN=golden, REPORT=phone_report)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    java_tests = sum(len(re.findall(r"@Test\b", p.read_text())) for p in JAVA_SOURCES if p.parent.name == "core"
                     and "src/test" in str(p))
    assert re.search(rf"OK \({java_tests} tests\)", result.stdout), (java_tests, result.stdout[-2000:])
    # The report the app writes follows the host tool's schema and loads into --compare.
    report = load_report(phone_report)
    validate(report)
    assert report["source"] == "android" and report["runtime"]["latency_ms"]["median"] == 31.0

    # The golden tests really compare: a wrong transcript in either fixture fails them.
    (golden / "transcript.txt").write_text("nine nine nine\n")
    broken = run_core_tests(GOLDEN=golden, REPORT=tmp_path / "again.json")
    assert broken.returncode != 0 and "decoderReproducesThePythonTranscript" in broken.stdout


# committed decoder fixtures (benchmarks/android_golden.py) and the JUnit test that reads each
FIXTURES = {"demo-golden.json": "decoderReadsTheDemoModelsOutputLikePython",  # words, real digit model
            "commands-golden.json": "decoderReadsTheCommandModelsCharactersLikePython",  # characters, real model
            "subword-golden.json": "decoderReadsSubwordsLikePython"}  # sentencepiece pieces


def test_committed_decoder_fixtures_are_real_transcripts_and_their_tests_can_fail(tmp_path):
    resources = tmp_path / "resources" / "org" / "rtkeras" / "demo" / "core"
    resources.mkdir(parents=True)
    for name in FIXTURES:
        fixture = json.loads((DEMO_GOLDEN.parent / name).read_text(encoding="utf-8"))
        assert fixture["transcript"] == decode_ids(fixture["vocabulary"], greedy_decode(np.array(fixture["log_probs"])))
        assert fixture["transcript"] and fixture["transcript"] != "zero", name  # not empty; "zero" is the broken one
        (resources / name).write_text(json.dumps({**fixture, "transcript": "zero"}, ensure_ascii=False),
                                      encoding="utf-8")
    assert "\u2581" in json.loads((DEMO_GOLDEN.parent / "commands-golden.json").read_text())["vocabulary"]
    assert run_core_tests().returncode == 0  # no GOLDEN: the fixture-file tests skip, the committed ones run
    broken = run_core_tests(CORE_TEST_RESOURCES=tmp_path / "resources")
    assert broken.returncode != 0 and all(test in broken.stdout for test in FIXTURES.values()), broken.stdout[-2000:]


def test_streaming_fixture_is_the_hosts_stream_and_its_junit_test_can_fail(tmp_path):
    """streaming-golden.json (benchmarks/android_golden.py on a real streaming .tflite and
    three FSDD recordings in a row) is self-consistent: each chunk's transcript is the greedy
    path over the frames so far, chunk sums are the stored audio's, every state output
    feeds one input. StreamingTest fails when a live transcript is wrong or when the chunks
    it is given are not the host's."""
    fixture = json.loads((DEMO_GOLDEN.parent / "streaming-golden.json").read_text(encoding="utf-8"))
    layout, chunks = fixture["layout"], fixture["chunks"]
    size = layout["chunk_samples"]
    audio = np.array(fixture["audio"], np.float64)
    assert len(chunks) == -(-len(audio) // size) >= 3 and len(layout["state"]) >= 4
    padded = np.pad(audio, (0, -len(audio) % size))
    frames = []
    for i, chunk in enumerate(chunks):
        assert chunk["sum"] == pytest.approx(padded[i * size:(i + 1) * size].sum(), abs=1e-3)
        frames += chunk["log_probs"]
        assert chunk["transcript"] == decode_ids(fixture["vocabulary"], greedy_decode(np.array(frames)))
    assert fixture["transcript"] == chunks[-1]["transcript"] and fixture["transcript"]
    assert chunks[0]["transcript"] != fixture["transcript"]  # the transcript grows while the audio arrives
    assert len({s["output"] for s in layout["state"]}) == len(layout["state"])

    def junit_with(broken: dict) -> subprocess.CompletedProcess:
        resources = tmp_path / f"resources-{len(list(tmp_path.iterdir()))}"
        target = resources / "org" / "rtkeras" / "demo" / "core"
        target.mkdir(parents=True)
        for other in DEMO_GOLDEN.parent.glob("*.json"):
            shutil.copy(other, target / other.name)
        (target / "streaming-golden.json").write_text(json.dumps(broken, ensure_ascii=False), encoding="utf-8")
        return run_core_tests(CORE_TEST_RESOURCES=resources)

    wrong_partial = json.loads(json.dumps(fixture))
    wrong_partial["chunks"][1]["transcript"] = "zero"
    shifted_audio = json.loads(json.dumps(fixture))  # as if the app cut its chunks elsewhere
    shifted_audio["audio"] = shifted_audio["audio"][1:] + [0.0]
    for broken in (wrong_partial, shifted_audio):
        result = junit_with(broken)
        assert result.returncode != 0 and "transcriberCarriesTheStateAndShowsTheHostsLiveTranscripts" in result.stdout


@requires_fsdd
def test_host_replays_the_apps_interpreter_call_order(tiny_converted):
    """What LiteRtEngine does: the constructor allocates at the stored input shape, then
    each length is resized and allocated, invoked, and the output read after invoke;
    input shorter than the front-end window is padded to it (metadata frame_length)."""
    from ai_edge_litert.interpreter import Interpreter

    model = tiny_converted.shipped["qat-int8"]
    metadata = read_metadata(model)
    window, classes = metadata["info"]["frame_length"], len(metadata["vocabulary"])
    interpreter = Interpreter(model_content=model, num_threads=1)
    audio_input = interpreter.get_input_details()[0]
    assert list(audio_input["shape"]) == [1, 16000]  # the stored shape: 1 s, not a 1-sample placeholder
    interpreter.allocate_tensors()  # at the stored shape, as the Java constructor does
    interpreter.set_tensor(audio_input["index"], np.zeros([1, 16000], np.float32))
    interpreter.invoke()
    frames = []
    for samples in (16000, 8000, 3, window - 1):
        length = max(samples, window)  # Pcm.padToMinimum
        interpreter.resize_tensor_input(audio_input["index"], [1, length])
        interpreter.allocate_tensors()
        audio = np.zeros([1, length], np.float32)
        audio[0, :samples] = np.random.default_rng(samples).uniform(-0.3, 0.3, samples)
        interpreter.set_tensor(audio_input["index"], audio)
        interpreter.invoke()
        output = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
        assert output.shape[0] == 1 and output.shape[2] == classes and output.size % classes == 0
        frames.append(output.shape[1])
    assert frames[0] > frames[1] > frames[2] == frames[3] >= 1
    # Unpadded, one sample short of the window is what the app must never pass.
    interpreter.resize_tensor_input(audio_input["index"], [1, window - 1])
    interpreter.allocate_tensors()
    interpreter.set_tensor(audio_input["index"], np.zeros([1, window - 1], np.float32))
    with pytest.raises(RuntimeError):
        interpreter.invoke()


def test_phone_and_host_benchmark_the_same_way_by_default():
    """One definition: the Android core's BenchmarkSignal constants, the probe's BENCHMARK and
    the CLI's footprint defaults (the signal itself is compared sample by sample in GoldenTest)."""
    java = (ROOT / "android_demo" / "core" / "src" / "main" / "java" / "org" / "rtkeras" / "demo" / "core" /
            "BenchmarkSignal.java").read_text()
    constants = {name.lower(): float(value) for name, value in
                 re.findall(r"public static final \w+ (SECONDS|THREADS|RUNS|WARMUP) = ([\d.]+);", java)}
    assert constants == {key: float(value) for key, value in BENCHMARK.items()}
    from rt_keras.cli import build_parser

    args = build_parser().parse_args(["footprint", "model.tflite"])
    assert (args.runs, args.warmup, args.threads) == (BENCHMARK["runs"], BENCHMARK["warmup"], BENCHMARK["threads"])
    from converters.footprint import DEFAULT_SECONDS
    assert DEFAULT_SECONDS == BENCHMARK["seconds"]


def test_java_sources_stay_at_java_8_without_lambdas():
    assert JAVA_SOURCES
    for path in JAVA_SOURCES:
        text = path.read_text()
        code = re.sub(r'"(\\.|[^"\\])*"', '""', re.sub(r"//.*|/\*.*?\*/", "", text, flags=re.S))
        assert "->" not in code, f"{path}: lambda or switch arrow (Java 8 without lambdas)"
        assert "::" not in code, f"{path}: method reference (Java 8 without lambdas)"
        assert not re.search(r"\bvar\s+\w+\s*=", code), f"{path}: 'var' is not Java 8"


def gradle_app_settings() -> dict:
    """applicationId, SDK levels and version as app/build.gradle.kts declares them."""
    text = (ROOT / "android_demo" / "app" / "build.gradle.kts").read_text()
    fields = r'^\s*(applicationId|minSdk|targetSdk|versionCode|versionName) = "?([^"\n]+)"?$'
    return dict(re.findall(fields, text, re.M))


def stored_entries(apk: pathlib.Path) -> dict:
    """name -> (compression method, offset of the entry's data in the file)."""
    raw = apk.read_bytes()
    entries = {}
    for info in zipfile.ZipFile(apk).infolist():
        name_length, extra_length = struct.unpack("<HH", raw[info.header_offset + 26:info.header_offset + 30])
        entries[info.filename] = (info.compress_type, info.header_offset + 30 + name_length + extra_length)
    return entries


@requires_fsdd
def test_app_compiles_against_android_jar_and_packages_with_mappable_models(tiny_converted, tmp_path):
    assets = tmp_path / "assets"
    (assets / "models").mkdir(parents=True)
    model = tiny_converted.shipped["qat-int8"]
    (assets / "models" / "rt-qat-int8.tflite").write_bytes(model)
    shutil.copy(pathlib.Path(FSDD) / "recordings" / "7_theo_3.wav", assets / "sample.wav")
    result = subprocess.run(["make", "-s", "-C", str(ROOT), "android-apk", f"APK_ASSETS={assets}"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "classes compiled against" in result.stdout
    assert "Verifies" in result.stdout  # apksigner verify
    # aapt dump badging reports what the Gradle build declares.
    gradle = gradle_app_settings()
    assert f"package: name='{gradle['applicationId']}' versionCode='{gradle['versionCode']}' " \
           f"versionName='{gradle['versionName']}'" in result.stdout
    assert f"sdkVersion:'{gradle['minSdk']}'" in result.stdout
    assert f"targetSdkVersion:'{gradle['targetSdk']}'" in result.stdout
    assert f"launchable-activity: name='{gradle['applicationId']}.MainActivity'" in result.stdout
    # The model is stored (not deflated) at a 4-byte-aligned offset, byte for byte: what
    # AssetFileDescriptor + FileChannel.map in ModelFile need to memory-map it.
    apk = ROOT / "build" / "android-app" / "apk" / "app-debug.apk"
    entries = stored_entries(apk)
    method, offset = entries["assets/models/rt-qat-int8.tflite"]
    assert method == zipfile.ZIP_STORED and offset % 4 == 0
    assert apk.read_bytes()[offset:offset + len(model)] == model
    assert "assets/sample.wav" in entries and "classes.dex" in entries


def test_only_one_app_class_uses_litert_and_the_core_has_no_android_imports():
    app = sorted((ROOT / "android_demo" / "app").rglob("*.java"))
    core = sorted((ROOT / "android_demo" / "core" / "src" / "main").rglob("*.java"))
    assert [p.name for p in app if "org.tensorflow.lite" in p.read_text()] == ["LiteRtEngine.java"]
    assert not [p.name for p in core if re.search(r"^import android\.", p.read_text(), re.M)]


@requires_fsdd
def test_device_report_flow_with_a_stand_in_adb(tiny_converted, tmp_path, monkeypatch):
    """`make android-device-report` without a phone: a stand-in adb plays the device and
    hands back a three-thread report; the install / start / pull calls and the per-thread
    comparison against the host's measurement of the same file are what is checked."""
    import copy
    import stat

    from benchmarks.android_device_report import DeviceReportError, device_report
    from converters.footprint import footprint

    model = tmp_path / "rt-qat-int8.tflite"
    model.write_bytes(tiny_converted.shipped["qat-int8"])
    apk = tmp_path / "app-debug.apk"
    apk.write_bytes(b"PK\x03\x04")
    host = footprint(model, runs=2, warmup=1)
    phone = []
    for threads in (1, 2, 4):
        report = copy.deepcopy(host)
        report["source"], report["device"]["kind"], report["runtime"]["threads"] = "android", "android", threads
        phone.append(report)
    (tmp_path / "sample-phone.json").write_text(json.dumps(phone))
    adb = tmp_path / "bin" / "adb"
    adb.parent.mkdir()
    adb.write_text(f"""#!/bin/sh
echo "$@" >> {tmp_path}/adb.log
case "$1" in
  get-state) echo "${{ADB_STATE:-device}}" ;;
  install) echo Success ;;
  shell) if [ "$2" = am ]; then touch {tmp_path}/started; fi
         if [ "$2" = ls ] && [ -f {tmp_path}/started ]; then echo "$3"; fi ;;
  pull) cp {tmp_path}/sample-phone.json "$3" ;;
esac
""")
    adb.chmod(adb.stat().st_mode | stat.S_IEXEC)
    out = tmp_path / "report"
    result = device_report(apk, model.name, model, out, adb_executable=str(adb), timeout=10, poll=0.05)
    log = (tmp_path / "adb.log").read_text()
    assert f"install -r {apk}" in log and f"--es benchmark {model.name}" in log and "pull " in log
    assert result["threads"] == [1, 2, 4]
    for threads in (1, 2, 4):
        rows = {field: note for field, _, _, note in result["comparisons"][threads]}
        assert rows["model.sha256"] == "" and rows["source"] == "changed"
        assert rows["runtime.threads"] == ""  # the host was measured at the phone's thread count
        assert json.loads((out / f"host-threads-{threads}.json").read_text())["runtime"]["threads"] == threads
        assert (out / f"compare-threads-{threads}.txt").read_text().startswith("field")

    monkeypatch.setenv("ADB_STATE", "unauthorized")
    with pytest.raises(DeviceReportError, match="no phone ready .adb get-state: unauthorized"):
        device_report(apk, model.name, model, out, adb_executable=str(adb))
    with pytest.raises(DeviceReportError, match="not found: install the Android platform tools"):
        device_report(apk, model.name, model, out, adb_executable=str(tmp_path / "no-adb"))
