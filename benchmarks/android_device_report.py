"""The phone's footprint next to the host's, in one command, for whoever has a phone:
install the APK, start the app's benchmark through an intent extra, pull the JSON report
it writes, measure the same model on the host and compare them field by field for each
thread count the phone measured.

    make android-device-report [APK=...] [MODEL=rt-qat-int8.tflite] [HOST_MODEL=runs/rt/model-qat-int8.tflite]
    python -m benchmarks.android_device_report --apk APK --model NAME --host-model FILE --out DIR

Needs adb (Debian: apt install adb) and a phone (or an emulator) with USB debugging, unlocked.
Writes DIR/phone.json and, per thread count N the phone measured, DIR/host-threads-N.json (the
host at N threads on the same signal) and DIR/compare-threads-N.txt.

Checks what CI relies on (.github/workflows/android.yml runs it on an emulator): every report
the phone wrote follows the footprint schema, the phone measured the very file given as
--host-model (same sha256), and the app transcribes its bundled sample to the words the
assets manifest records: the script finds the app's "Bundled WAV" button through `uiautomator
dump`, taps it and reads the utterance the app logs under its logcat tag (`adb logcat -s
rt-keras`): DIR/sample-transcript.json; --no-sample-check skips it.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import re
import shutil
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]

PACKAGE = "org.rtkeras.demo"
REPORT = f"/sdcard/Android/data/{PACKAGE}/files/footprint-report.json"  # MainActivity.REPORT_FILE
SAMPLE_BUTTON = "Bundled WAV"  # MainActivity's button that transcribes assets/sample.wav (SAMPLE_WAV)
SAMPLE_WAV = "sample.wav"
LOG_TAG = "rt-keras"  # AppLog.TAG
# AppLog.i("utterance " + TranscriptHistory.Entry.line() + " [" + model + ", " + threads + " threads; " + detail + "]"),
# line() = "3. four one one (1.8 s)", detail starts with what was transcribed ("sample.wav: 12 ms, ...")
UTTERANCE = re.compile(r"utterance \d+\. (?P<text>.*) \(\d+(?:\.\d+)? s\) \[(?P<model>[^,\]]*), (?P<threads>\d+) "
                       r"threads; (?P<what>[^:\]]*):")
FAILED = re.compile(r"cannot transcribe (?P<what>\S+)")
UI_DUMP = "/sdcard/rt-keras-ui.xml"
ASSETS_MANIFEST = ROOT / "android_demo" / "app" / "src" / "main" / "assets" / "MANIFEST.json"


class DeviceReportError(RuntimeError):
    """What is missing or failed, and how to fix it."""


def adb(executable: str, *args: str, check: bool = True) -> str:
    done = subprocess.run([executable, *args], capture_output=True, text=True)
    if check and done.returncode != 0:
        raise DeviceReportError(f"adb {' '.join(args)} failed ({done.returncode}): "
                                f"{(done.stderr or done.stdout).strip()[-300:]}")
    return done.stdout.strip()


def device_report(apk, model: str, host_model, out, adb_executable: str = "adb", timeout: float = 300,
                  poll: float = 2.0, sample_words: str | None = None, sample_button: str = SAMPLE_BUTTON) -> dict:
    from converters.footprint import compare, footprint, format_compare, load_report
    from converters.footprint_probe import BENCHMARK

    executable = shutil.which(adb_executable)
    if executable is None:
        raise DeviceReportError(f"{adb_executable} not found: install the Android platform tools (Debian: "
                                "apt install adb) and connect a phone with USB debugging on")
    apk, host_model, out = pathlib.Path(apk), pathlib.Path(host_model), pathlib.Path(out)
    if not apk.is_file():
        raise DeviceReportError(f"{apk} not found: build it with `cd android_demo && ./gradlew assembleDebug` "
                                "after `make android-assets` (android_demo/README.md)")
    if not host_model.is_file():
        raise DeviceReportError(f"{host_model} not found: the host side measures the same file the APK bundles "
                                "(`make demo` writes runs/rt/model-qat-int8.tflite)")
    state = adb(executable, "get-state", check=False)
    if state != "device":
        raise DeviceReportError(f"no phone ready (adb get-state: {state or 'nothing'}); connect one with USB "
                                "debugging on and accept the computer's key")
    out.mkdir(parents=True, exist_ok=True)
    adb(executable, "install", "-r", str(apk))
    # Awake and unlocked: an activity behind the lock screen runs throttled (or not at all).
    adb(executable, "shell", "input", "keyevent", "KEYCODE_WAKEUP", check=False)
    adb(executable, "shell", "svc", "power", "stayon", "usb", check=False)
    adb(executable, "shell", "rm", "-f", REPORT)
    adb(executable, "shell", "am", "start", "-W", "-n", f"{PACKAGE}/.MainActivity", "--es", "benchmark", model)
    phone_path = out / "phone.json"
    waited = 0.0
    while adb(executable, "shell", "ls", REPORT, check=False) != REPORT:
        if waited >= timeout:
            raise DeviceReportError(f"the app wrote no report within {timeout:.0f} s (is {model} in the APK's "
                                    "assets/models? the app's screen says why)")
        time.sleep(poll)
        waited += poll
    adb(executable, "pull", REPORT, str(phone_path))
    phone = check_reports(phone_path, host_model)
    threads = [r["runtime"]["threads"] for r in phone]
    comparisons = {}
    for count in threads:  # the host measured like the phone: same signal length and thread count
        seconds = (load_report(phone_path, count)["runtime"] or {}).get("audio_seconds") or BENCHMARK["seconds"]
        phone_runtime = load_report(phone_path, count)["runtime"] or {}
        host = footprint(host_model, seconds=seconds, threads=count,
                         weight_cache=bool(phone_runtime.get("xnnpack_weight_cache")))
        (out / f"host-threads-{count}.json").write_text(json.dumps(host, indent=2))
        rows = compare(host, load_report(phone_path, count))
        text = format_compare(rows, f"host-threads-{count}.json", f"phone.json ({count} thread(s))")
        (out / f"compare-threads-{count}.txt").write_text(text + "\n")
        comparisons[count] = rows
    sample = None
    if sample_words is not None:
        sample = check_sample_transcript(executable, sample_words, sample_button, timeout=timeout, poll=poll)
        (out / "sample-transcript.json").write_text(json.dumps(sample, indent=2) + "\n")
    return {"phone": str(phone_path), "host": [str(out / f"host-threads-{n}.json") for n in threads],
            "threads": threads, "comparisons": comparisons, "sample": sample}


def check_reports(phone_path: pathlib.Path, host_model: pathlib.Path) -> list[dict]:
    """The phone's reports, each validated against the footprint schema and made from the
    same file as ``host_model`` (sha256)."""
    import hashlib

    import jsonschema

    from converters.footprint import validate

    try:
        phone = json.loads(phone_path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DeviceReportError(f"{phone_path}: not JSON ({error})") from None
    reports = phone if isinstance(phone, list) else [phone]
    if not reports:
        raise DeviceReportError(f"{phone_path}: no report in it")
    expected = hashlib.sha256(host_model.read_bytes()).hexdigest()
    for index, report in enumerate(reports):
        try:
            validate(report)
        except jsonschema.ValidationError as error:
            where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
            raise DeviceReportError(f"{phone_path}: report {index} does not follow the footprint schema at "
                                    f"{where}: {error.message}") from None
        measured = (report.get("model") or {}).get("sha256")
        if measured != expected:
            raise DeviceReportError(f"{phone_path}: report {index} measured a file with sha256 {measured}, not "
                                    f"{host_model} ({expected}): pass the file the APK bundles as --host-model")
    return reports


def ui_texts(executable: str) -> list[dict]:
    """The app's views on screen (``uiautomator dump``): text, class, enabled, centre."""
    import xml.etree.ElementTree as ElementTree

    adb(executable, "shell", "uiautomator", "dump", UI_DUMP)
    dump = adb(executable, "shell", "cat", UI_DUMP)
    try:
        root = ElementTree.fromstring(dump[dump.index("<"):] if "<" in dump else dump)
    except ElementTree.ParseError as error:
        raise DeviceReportError(f"uiautomator dump is not XML ({error}): {dump[:200]!r}") from None
    views = []
    for node in root.iter("node"):
        bounds = [int(v) for v in re.findall(r"-?\d+", node.get("bounds", ""))]
        centre = ((bounds[0] + bounds[2]) // 2, (bounds[1] + bounds[3]) // 2) if len(bounds) == 4 else None
        views.append({"text": node.get("text", ""), "class": node.get("class", ""),
                      "enabled": node.get("enabled") == "true", "centre": centre})
    return views


def check_sample_transcript(executable: str, words: str, button: str = SAMPLE_BUTTON, timeout: float = 300,
                            poll: float = 2.0) -> dict:
    """Tap ``button`` once it is enabled (the benchmark done) and wait for the utterance the
    app logs for its bundled sample.wav: its transcript must be ``words``."""
    adb(executable, "logcat", "-c", check=False)
    waited, seen, tapped = 0.0, [], False
    while waited < timeout:
        if not tapped:
            try:
                views = ui_texts(executable)
            except DeviceReportError:  # "could not get idle state" while the screen changes: try again
                views = []
            seen = [v["text"] for v in views if v["text"]]
            target = [v for v in views if v["text"].lower() == button.lower() and v["enabled"] and v["centre"]]
            if target:
                adb(executable, "shell", "input", "tap", *(str(c) for c in target[0]["centre"]))
                tapped = True
        else:
            seen = adb(executable, "logcat", "-d", "-v", "raw", "-s", f"{LOG_TAG}:I",
                       check=False).splitlines()
            for line in seen:
                found = UTTERANCE.search(line)
                if found and found["what"] == SAMPLE_WAV:
                    result = {"expected": words, "transcript": found["text"], "model": found["model"],
                              "threads": int(found["threads"]), "log": line.strip()}
                    if found["text"] != words:
                        raise DeviceReportError(f"the app transcribed its {SAMPLE_WAV} as {found['text']!r}, not "
                                                f"{words!r} ({found['model']}): {line.strip()}")
                    return result
                failed = FAILED.search(line)
                if failed and failed["what"] == SAMPLE_WAV:
                    raise DeviceReportError(f"the app could not transcribe its {SAMPLE_WAV}: {line.strip()}")
        time.sleep(poll)
        waited += poll
    what = f"no enabled button {button!r} on screen" if not tapped else f"no utterance for {SAMPLE_WAV} in logcat"
    raise DeviceReportError(f"{what} within {timeout:.0f} s; last seen: {seen[-12:]}")


def manifest_words(manifest: pathlib.Path = ASSETS_MANIFEST) -> str | None:
    """What the bundled sample says, from the assets manifest (None without one)."""
    try:
        files = json.loads(manifest.read_text())["files"]
    except (OSError, ValueError, KeyError):
        return None
    return next((f["words"] for f in files if f.get("kind") == "sample"), None)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--apk", default=str(ROOT / "android_demo/app/build/outputs/apk/debug/app-debug.apk"))
    parser.add_argument("--model", default="rt-qat-int8.tflite", help="a model in the APK's assets/models")
    parser.add_argument("--host-model", default="runs/rt/model-qat-int8.tflite", help="the same file on the host")
    parser.add_argument("--out", default="build/device-report")
    parser.add_argument("--adb", default="adb")
    parser.add_argument("--timeout", type=float, default=300, help="seconds to wait for the phone's report")
    parser.add_argument("--sample-words", default=None,
                        help="what the app must transcribe its bundled sample as (default: the assets "
                             "manifest's words)")
    parser.add_argument("--no-sample-check", action="store_true", help="do not tap the app to transcribe its sample")
    parser.add_argument("--sample-button", default=SAMPLE_BUTTON, help="the app's button that transcribes sample.wav")
    args = parser.parse_args(argv)
    words = None if args.no_sample_check else (args.sample_words or manifest_words())
    if words is None and not args.no_sample_check:
        print(f"android-device-report: {ASSETS_MANIFEST} names no sample words; the sample is not checked "
              "(--sample-words WORDS)", file=sys.stderr)
    try:
        result = device_report(args.apk, args.model, args.host_model, args.out, args.adb, args.timeout,
                               sample_words=words, sample_button=args.sample_button)
    except DeviceReportError as error:
        print(f"android-device-report: {error}", file=sys.stderr)
        return 2
    for count in result["threads"]:
        print((pathlib.Path(args.out) / f"compare-threads-{count}.txt").read_text())
    print(f"phone report: {result['phone']} (follows the schema); host reports: {', '.join(result['host'])}")
    if result["sample"]:
        print(f"sample transcript on the phone: {result['sample']['transcript']!r} (expected)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
