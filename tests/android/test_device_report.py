"""`make android-device-report` as the Android workflow runs it on an emulator, with a
stand-in adb that plays the device and its screen: the phone's reports must follow the
footprint schema and measure the file the APK bundles, and the app must transcribe its
bundled sample to the manifest's words (tapped and read through `uiautomator dump`).
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
BUTTON = '<node index="5" text="Transcribe bundled WAV" class="android.widget.Button" package="org.rtkeras.demo" ' \
         'enabled="{enabled}" bounds="[0,300][1080,420]" />'
SCREEN = """<?xml version='1.0' encoding='UTF-8' standalone='yes' ?><hierarchy rotation="0">
<node index="0" text="" class="android.widget.ScrollView" package="org.rtkeras.demo" enabled="true"
 bounds="[0,0][1080,2400]">
{button}
<node index="9" text="{transcript}" class="android.widget.TextView" package="org.rtkeras.demo" enabled="true"
 bounds="[0,900][1080,1000]" />
</node></hierarchy>"""


def screen(transcript: str, enabled: bool = True) -> str:
    """As uiautomator writes it (KXmlSerializer escapes a newline in an attribute as &#10;)."""
    escaped = escape(transcript, {'"': "&quot;", "\n": "&#10;"})
    return SCREEN.format(button=BUTTON.format(enabled=str(enabled).lower()), transcript=escaped)


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
    button, then after a tap on its centre the transcript in ``after_tap``."""
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
  shell) case "$2" in
      am) touch started ;;
      ls) if [ -f started ]; then echo "$3"; fi ;;
      input) if [ "$3" = tap ]; then echo "$4 $5" > tapped; fi ;;
      uiautomator) if [ -f tapped ]; then cp after.xml ui.xml; else cp before.xml ui.xml; fi
                   echo "UI hierchary dumped to: $4" ;;
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
    (tmp_path / "after.xml").write_text(screen(f"{words}\n14 ms for 0.58 s of audio (real-time factor 0.024, "
                                               "1 threads)"))
    result = run(device, tmp_path, model, sample_words=words)
    assert result["threads"] == [1, 2, 4]
    assert result["sample"]["transcript"] == words
    assert (tmp_path / "tapped").read_text().split() == ["540", "360"]  # the button's centre
    saved = json.loads((tmp_path / "report" / "sample-transcript.json").read_text())
    assert saved["expected"] == words and f"{words}\n14 ms" in saved["screen"][-1]


def test_a_wrong_transcript_fails(device, tmp_path, starter_model):
    model, words = starter_model
    (tmp_path / "after.xml").write_text(screen("one\n14 ms for 0.58 s of audio"))
    with pytest.raises(DeviceReportError, match="no transcript 'seven' on screen within"):
        run(device, tmp_path, model, sample_words=words, timeout=0.5)
    (tmp_path / "after.xml").write_text(screen("Cannot transcribe the bundled WAV: failed to load"))
    with pytest.raises(DeviceReportError, match="did not transcribe its sample as 'seven'"):
        run(device, tmp_path, model, sample_words=words)


def test_a_busy_app_is_not_tapped(device, tmp_path, starter_model):
    model, words = starter_model
    (tmp_path / "before.xml").write_text(screen("", enabled=False))
    with pytest.raises(DeviceReportError, match="no enabled button 'Transcribe bundled WAV'"):
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
    (tmp_path / "after.xml").write_text(screen(f"{words}\n9 ms"))
    apk = tmp_path / "app-debug.apk"
    apk.write_bytes(b"PK\x03\x04")
    assert main(["--apk", str(apk), "--model", model.name, "--host-model", str(model), "--out",
                 str(tmp_path / "out"), "--adb", str(device), "--timeout", "5"]) == 0
    out = capsys.readouterr().out
    assert "(follows the schema)" in out and f"sample transcript on the phone: '{words}'" in out
    assert main(["--apk", str(apk), "--model", model.name, "--host-model", str(model), "--out",
                 str(tmp_path / "out"), "--adb", str(device), "--sample-words", "eight", "--timeout", "0.5"]) == 2
