"""The phone's footprint next to the host's, in one command, for whoever has a phone:
install the APK, start the app's benchmark through an intent extra, pull the JSON report
it writes, measure the same model on the host and compare them field by field for each
thread count the phone measured.

    make android-device-report [APK=...] [MODEL=rt-qat-int8.tflite] [HOST_MODEL=runs/rt/model-qat-int8.tflite]
    python benchmarks/android_device_report.py --apk APK --model NAME --host-model FILE --out DIR

Needs adb (Debian: apt install adb) and a phone with USB debugging, unlocked. Writes
DIR/phone.json and, per thread count N the phone measured, DIR/host-threads-N.json (the host
at N threads on the same signal) and DIR/compare-threads-N.txt.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import shutil
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PACKAGE = "org.rtkeras.demo"
REPORT = f"/sdcard/Android/data/{PACKAGE}/files/footprint-report.json"  # MainActivity.REPORT_FILE


class DeviceReportError(RuntimeError):
    """What is missing or failed, and how to fix it."""


def adb(executable: str, *args: str, check: bool = True) -> str:
    done = subprocess.run([executable, *args], capture_output=True, text=True)
    if check and done.returncode != 0:
        raise DeviceReportError(f"adb {' '.join(args)} failed ({done.returncode}): "
                                f"{(done.stderr or done.stdout).strip()[-300:]}")
    return done.stdout.strip()


def device_report(apk, model: str, host_model, out, adb_executable: str = "adb", timeout: float = 300,
                  poll: float = 2.0) -> dict:
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
    phone = json.loads(phone_path.read_text())
    threads = [r["runtime"]["threads"] for r in (phone if isinstance(phone, list) else [phone])]
    comparisons = {}
    for count in threads:  # the host measured like the phone: same signal length and thread count
        seconds = (load_report(phone_path, count)["runtime"] or {}).get("audio_seconds") or BENCHMARK["seconds"]
        host = footprint(host_model, seconds=seconds, threads=count)
        (out / f"host-threads-{count}.json").write_text(json.dumps(host, indent=2))
        rows = compare(host, load_report(phone_path, count))
        text = format_compare(rows, f"host-threads-{count}.json", f"phone.json ({count} thread(s))")
        (out / f"compare-threads-{count}.txt").write_text(text + "\n")
        comparisons[count] = rows
    return {"phone": str(phone_path), "host": [str(out / f"host-threads-{n}.json") for n in threads],
            "threads": threads, "comparisons": comparisons}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--apk", default=str(ROOT / "android_demo/app/build/outputs/apk/debug/app-debug.apk"))
    parser.add_argument("--model", default="rt-qat-int8.tflite", help="a model in the APK's assets/models")
    parser.add_argument("--host-model", default="runs/rt/model-qat-int8.tflite", help="the same file on the host")
    parser.add_argument("--out", default="build/device-report")
    parser.add_argument("--adb", default="adb")
    parser.add_argument("--timeout", type=float, default=300, help="seconds to wait for the phone's report")
    args = parser.parse_args(argv)
    try:
        result = device_report(args.apk, args.model, args.host_model, args.out, args.adb, args.timeout)
    except DeviceReportError as error:
        print(f"android-device-report: {error}", file=sys.stderr)
        return 2
    for count in result["threads"]:
        print((pathlib.Path(args.out) / f"compare-threads-{count}.txt").read_text())
    print(f"phone report: {result['phone']}; host reports: {', '.join(result['host'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
