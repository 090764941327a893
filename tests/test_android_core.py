"""The Android demo's pure-Java core: JUnit tests through plain javac/java (Debian's
JUnit 4), and golden parity with the Python side: the real .tflite run by ai-edge-litert
on real FSDD audio writes the fixtures the Java PCM conversion and CTC decoder must match.

The golden model is the tiny test run's qat-int8 model (RT_KERAS_GOLDEN_MODEL=FILE.tflite
uses another one, e.g. runs/rt/model-qat-int8.tflite). The tiny model, trained for two
epochs, transcribes nothing, so the decoder's behaviour on real words is also checked by
CoreTest's hand-made log-probabilities."""

import os
import pathlib
import re
import shutil
import subprocess

import numpy as np
import pytest
import soundfile

from converters.footprint import load_report, validate
from converters.metadata import read_metadata
from converters.runner import TFLiteModel
from rt_keras.ctc import greedy_decode
from rt_keras.data.fsdd import default_fsdd_dir

ROOT = pathlib.Path(__file__).parents[1]
JAVA_SOURCES = sorted((ROOT / "android_demo").rglob("*.java"))

pytestmark = pytest.mark.skipif(default_fsdd_dir() is None, reason="FSDD not found (set RT_KERAS_FSDD)")


def numpy_model_input(samples: np.ndarray, rate: int) -> np.ndarray:
    """What the Java core must compute: int16 / 32767, linear interpolation to 16 kHz."""
    audio = samples.astype(np.float32) / 32767
    count = len(audio) * 16000 // rate
    return np.interp(np.arange(count) * rate / 16000, np.arange(len(audio)), audio).astype(np.float32)


@pytest.fixture(scope="module")
def golden(tiny_converted, tmp_path_factory):
    directory = tmp_path_factory.mktemp("golden")
    override = os.environ.get("RT_KERAS_GOLDEN_MODEL")
    model = pathlib.Path(override).read_bytes() if override else tiny_converted[4]["qat-int8"][1]
    metadata = read_metadata(model)
    (directory / "model.tflite").write_bytes(model)
    source = pathlib.Path(default_fsdd_dir()) / "recordings" / "7_theo_3.wav"
    shutil.copy(source, directory / "audio.wav")
    samples, rate = soundfile.read(source, dtype="int16")
    model_input = numpy_model_input(samples, rate)
    np.savetxt(directory / "model_input.txt", model_input, fmt="%.9g")
    log_probs = TFLiteModel(model)(model_input[None])[0]
    np.savetxt(directory / "log_probs.txt", log_probs, fmt="%.9g")
    vocabulary = metadata["vocabulary"]
    (directory / "vocabulary.txt").write_text("\n".join(vocabulary) + "\n")
    (directory / "transcript.txt").write_text(" ".join(vocabulary[i] for i in greedy_decode(log_probs)) + "\n")
    return directory


def test_core_junit_and_golden_parity(golden, tmp_path):
    phone_report = tmp_path / "phone.json"
    result = subprocess.run(["make", "-s", "-C", str(ROOT), "android-core-test", f"GOLDEN={golden}",
                             f"REPORT={phone_report}"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    ran = re.search(r"OK \((\d+) tests\)", result.stdout)
    assert ran and int(ran[1]) >= 15, result.stdout[-2000:]  # CoreTest + the three golden tests ran
    # The report the app writes follows the host tool's schema and loads into --compare.
    report = load_report(phone_report)
    validate(report)
    assert report["source"] == "android" and report["runtime"]["latency_ms"]["median"] == 31.0


def test_java_sources_stay_at_java_8_without_lambdas():
    assert JAVA_SOURCES
    for path in JAVA_SOURCES:
        text = path.read_text()
        code = re.sub(r'"(\\.|[^"\\])*"', '""', re.sub(r"//.*|/\*.*?\*/", "", text, flags=re.S))
        assert "->" not in code, f"{path}: lambda or switch arrow (Java 8 without lambdas)"
        assert not re.search(r"\bvar\s+\w+\s*=", code), f"{path}: 'var' is not Java 8"


def test_app_compiles_against_android_jar_packages_and_only_one_class_uses_litert():
    result = subprocess.run(["make", "-s", "-C", str(ROOT), "android-apk"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "classes compiled against" in result.stdout
    assert "Verifies" in result.stdout  # apksigner verify
    assert "package: name='org.rtkeras.demo'" in result.stdout and "sdkVersion:'24'" in result.stdout  # aapt badging
    assert "launchable-activity: name='org.rtkeras.demo.MainActivity'" in result.stdout
    app = sorted((ROOT / "android_demo" / "app").rglob("*.java"))
    core = sorted((ROOT / "android_demo" / "core" / "src" / "main").rglob("*.java"))
    assert [p.name for p in app if "org.tensorflow.lite" in p.read_text()] == ["LiteRtEngine.java"]
    assert not [p.name for p in core if re.search(r"^import android\.", p.read_text(), re.M)]
