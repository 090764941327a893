"""`make android-device-report` as the Android workflow runs it on an emulator, with a
stand-in adb that plays the device and its screen: the phone's reports must follow the
footprint schema and measure the file the APK bundles, and the app must transcribe its
bundled sample to the manifest's words (its button found through `uiautomator dump` and tapped,
the utterance read from the app's logcat tag).
The install / intent / pull / per-thread comparison steps: tests/android/test_android_core.py."""

import copy
import json
import pathlib
import stat
from xml.sax.saxutils import escape

import pytest

from benchmarks.android_device_report import DeviceReportError, device_report, main, manifest_words

ROOT = pathlib.Path(__file__).parents[2]
ASSETS = ROOT / "android_demo" / "app" / "src" / "main" / "assets"
BUTTON = '<node index="5" text="Bundled WAV" class="android.widget.Button" package="org.rtkeras.demo" ' \
         'enabled="{enabled}" bounds="[0,300][1080,420]" />'
SCREEN = """<?xml version='1.0' encoding='UTF-8' standalone='yes' ?><hierarchy rotation="0">
<node index="0" text="" class="android.widget.ScrollView" package="org.rtkeras.demo" enabled="true"
 bounds="[0,0][1080,2400]">
{button}
<node index="9" text="{history}" class="android.widget.TextView" package="org.rtkeras.demo" enabled="true"
 bounds="[0,900][1080,1000]" />
</node></hierarchy>"""


def screen(history: str = "", enabled: bool = True) -> str:
    """As uiautomator writes it (KXmlSerializer escapes a newline in an attribute as &#10;)."""
    escaped = escape(history, {'"': "&quot;", "\n": "&#10;"})
    return SCREEN.format(button=BUTTON.format(enabled=str(enabled).lower()), history=escaped)


def logcat(text: str, what: str = "sample.wav") -> str:
    """What `adb logcat -d -v raw -s rt-keras:I` prints after the app transcribed ``what``
    (MainActivity.addToHistory's line)."""
    return (f"loaded rt-qat-int8.tflite\nutterance 1. {text} (0.6 s) [rt-qat-int8.tflite, 1 threads; {what}: 14 ms, "
            "real-time factor 0.024]\n")


@pytest.fixture(scope="module")
def starter_model():
    """The model the APK bundles (committed starter set), as CI passes it as HOST_MODEL."""
    words = manifest_words(ASSETS / "MANIFEST.json")
    model = ASSETS / "models" / "rt-qat-int8.tflite"
    if words is None or not model.is_file():
        pytest.fail("no committed starter set: run `make android-assets` and commit it")
    return model, words


@pytest.fixture(scope="module")
def phone_reports(starter_model):
    from converters.footprint import footprint

    host = footprint(starter_model[0], runs=2, warmup=1)
    reports = []
    for threads in (1, 2, 4):
        report = copy.deepcopy(host)
        report["source"], report["device"]["kind"], report["runtime"]["threads"] = "android", "android", threads
        reports.append(report)
    return reports


@pytest.fixture
def device(tmp_path, phone_reports):
    """A stand-in adb: the benchmark report appears after `am start`; the screen shows the
    button (before.xml); after a tap on its centre the app's log holds logcat.txt."""
    (tmp_path / "phone.json").write_text(json.dumps(phone_reports))
    (tmp_path / "before.xml").write_text(screen(""))
    adb = tmp_path / "bin" / "adb"
    adb.parent.mkdir()
    adb.write_text(f"""#!/bin/sh
cd {tmp_path}
echo "$@" >> adb.log
case "$1" in
  get-state) echo device ;;
  install) echo Success ;;
  pull) cp phone.json "$3" ;;
  logcat) if [ "$2" = -c ]; then rm -f tapped; elif [ -f tapped ]; then cat logcat.txt; fi ;;
  shell) case "$2" in
      am) touch started ;;
      ls) if [ -f started ]; then echo "$3"; fi ;;
      input) if [ "$3" = tap ]; then echo "$4 $5" > tapped; fi ;;
      uiautomator) cp before.xml ui.xml; echo "UI hierchary dumped to: $4" ;;
      cat) cat ui.xml ;;
    esac ;;
esac
""")
    adb.chmod(adb.stat().st_mode | stat.S_IEXEC)
    return adb


def run(adb, tmp_path, model, **kwargs):
    apk = tmp_path / "app-debug.apk"
    apk.write_bytes(b"PK\x03\x04")
    return device_report(apk, model.name, model, tmp_path / "report", adb_executable=str(adb),
                         **{"timeout": 5, "poll": 0.02, **kwargs})


def test_reports_follow_the_schema_and_the_sample_is_transcribed(device, tmp_path, starter_model):
    model, words = starter_model
    assert words == "seven"  # 7_theo_3.wav
    (tmp_path / "logcat.txt").write_text(logcat("one", what="a.wav") + logcat(words))
    result = run(device, tmp_path, model, sample_words=words)
    assert result["threads"] == [1, 2, 4]
    assert result["sample"]["transcript"] == words and result["sample"]["model"] == "rt-qat-int8.tflite"
    assert (tmp_path / "tapped").read_text().split() == ["540", "360"]  # the button's centre
    saved = json.loads((tmp_path / "report" / "sample-transcript.json").read_text())
    assert saved["expected"] == words and saved["log"].startswith(f"utterance 1. {words} (0.6 s)")
    log = (tmp_path / "adb.log").read_text().splitlines()
    assert log.index("logcat -c") < log.index("shell input tap 540 360")  # only this run's lines count


def test_a_wrong_or_missing_transcript_fails(device, tmp_path, starter_model):
    model, words = starter_model
    (tmp_path / "logcat.txt").write_text(logcat("seven one"))
    with pytest.raises(DeviceReportError, match="transcribed its sample.wav as 'seven one', not 'seven'"):
        run(device, tmp_path, model, sample_words=words)
    (tmp_path / "logcat.txt").write_text("cannot transcribe sample.wav\njava.io.IOException: no asset\n")
    with pytest.raises(DeviceReportError, match="could not transcribe its sample.wav: cannot transcribe"):
        run(device, tmp_path, model, sample_words=words)
    (tmp_path / "logcat.txt").write_text(logcat(words, what="recording"))  # not the sample's line
    with pytest.raises(DeviceReportError, match="no utterance for sample.wav in logcat within"):
        run(device, tmp_path, model, sample_words=words, timeout=0.3)


def test_a_busy_app_is_not_tapped(device, tmp_path, starter_model):
    model, words = starter_model
    (tmp_path / "before.xml").write_text(screen(enabled=False))
    with pytest.raises(DeviceReportError, match="no enabled button 'Bundled WAV' on screen within"):
        run(device, tmp_path, model, sample_words=words, timeout=0.3)
    assert not (tmp_path / "tapped").exists()


def test_a_report_off_the_schema_or_of_another_file_fails(device, tmp_path, phone_reports, starter_model):
    model, _ = starter_model
    broken = copy.deepcopy(phone_reports)
    broken[1]["runtime"]["threads"] = "two"
    (tmp_path / "phone.json").write_text(json.dumps(broken))
    with pytest.raises(DeviceReportError, match="report 1 does not follow the footprint schema at runtime/threads"):
        run(device, tmp_path, model)
    other = copy.deepcopy(phone_reports)
    other[0]["model"]["sha256"] = "0" * 64
    (tmp_path / "phone.json").write_text(json.dumps(other))
    with pytest.raises(DeviceReportError, match="report 0 measured a file with sha256 0+, not"):
        run(device, tmp_path, model)


def test_the_command_line_reads_the_words_from_the_manifest(device, tmp_path, starter_model, capsys):
    model, words = starter_model
    (tmp_path / "logcat.txt").write_text(logcat(words))
    apk = tmp_path / "app-debug.apk"
    apk.write_bytes(b"PK\x03\x04")
    assert main(["--apk", str(apk), "--model", model.name, "--host-model", str(model), "--out",
                 str(tmp_path / "out"), "--adb", str(device), "--timeout", "5"]) == 0
    out = capsys.readouterr().out
    assert "(follows the schema)" in out and f"sample transcript on the phone: '{words}'" in out
    assert main(["--apk", str(apk), "--model", model.name, "--host-model", str(model), "--out",
                 str(tmp_path / "out"), "--adb", str(device), "--sample-words", "eight", "--timeout", "0.5"]) == 2
