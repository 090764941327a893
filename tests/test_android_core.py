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
import struct
import subprocess
import zipfile

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


def gradle_app_settings() -> dict:
    """applicationId, SDK levels and version as app/build.gradle.kts declares them."""
    text = (ROOT / "android_demo" / "app" / "build.gradle.kts").read_text()
    return dict(re.findall(r'^\s*(applicationId|minSdk|targetSdk|versionCode|versionName) = "?([^"\n]+)"?$', text, re.M))


def stored_entries(apk: pathlib.Path) -> dict:
    """name -> (compression method, offset of the entry's data in the file)."""
    raw = apk.read_bytes()
    entries = {}
    for info in zipfile.ZipFile(apk).infolist():
        name_length, extra_length = struct.unpack("<HH", raw[info.header_offset + 26:info.header_offset + 30])
        entries[info.filename] = (info.compress_type, info.header_offset + 30 + name_length + extra_length)
    return entries


def test_app_compiles_against_android_jar_and_packages_with_mappable_models(tiny_converted, tmp_path):
    assets = tmp_path / "assets"
    (assets / "models").mkdir(parents=True)
    model = tiny_converted[4]["qat-int8"][1]
    (assets / "models" / "rt-qat-int8.tflite").write_bytes(model)
    shutil.copy(pathlib.Path(default_fsdd_dir()) / "recordings" / "7_theo_3.wav", assets / "sample.wav")
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
