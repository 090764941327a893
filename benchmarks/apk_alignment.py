"""Does an APK load on 16 KB-page devices and memory-map its models? Checks, entry by entry:

- every native library ``lib/ABI/*.so`` is stored (not deflated: the app loads it from the
  APK, ``packaging.jniLibs.useLegacyPackaging = false``) at a data offset that is a multiple
  of 16 KB, and its ELF LOAD segments are aligned to at least 16 KB (Android 15+ devices with
  16 KB pages need both);
- every ``.tflite`` under ``assets/`` is stored at a 4-byte-aligned offset (what the app's
  ``ModelFile`` needs to memory-map it: Gradle's ``noCompress``).

    python -m benchmarks.apk_alignment APP.apk [--zipalign auto|require|none|PATH]

``--zipalign`` also runs the Android SDK's ``zipalign -c -P 16 -v 4`` (found under
$ANDROID_HOME or $ANDROID_SDK_ROOT build-tools; Debian's zipalign has no ``-P``): ``auto``
where the SDK's is present, ``require`` fails without it. Exit status 0 when every check
passes, 1 otherwise. Needs only the standard library.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import pathlib
import struct
import subprocess
import sys
import zipfile

PAGE = 16 * 1024
ASSET_ALIGNMENT = 4
PT_LOAD = 1


@dataclasses.dataclass(frozen=True)
class Entry:
    name: str
    stored: bool  # ZIP_STORED: the bytes sit in the file as they are
    offset: int  # where the entry's data starts in the APK
    size: int


def entries(apk) -> list[Entry]:
    """Every entry with the offset of its data (after its local header, whose extra field
    zipalign pads: the central directory's copy of the extra field may differ)."""
    apk = pathlib.Path(apk)
    with open(apk, "rb") as raw, zipfile.ZipFile(apk) as archive:
        out = []
        for info in archive.infolist():
            raw.seek(info.header_offset)
            header = raw.read(30)
            if len(header) < 30 or header[:4] != b"PK\x03\x04":
                raise ValueError(f"{apk}: no local header for {info.filename} at {info.header_offset}")
            name_length, extra_length = struct.unpack("<HH", header[26:30])
            out.append(Entry(info.filename, info.compress_type == zipfile.ZIP_STORED,
                             info.header_offset + 30 + name_length + extra_length, info.file_size))
        return out


def elf_load_alignments(data: bytes) -> list[int]:
    """p_align of each PT_LOAD segment of an ELF file (32 or 64 bit, either byte order)."""
    if data[:4] != b"\x7fELF" or data[4] not in (1, 2) or data[5] not in (1, 2):
        raise ValueError("not an ELF file")
    order = "<" if data[5] == 1 else ">"
    if data[4] == 2:  # ELF64: e_phoff at 0x20, e_phentsize/e_phnum at 0x36; p_align at 48
        (phoff,) = struct.unpack_from(order + "Q", data, 0x20)
        entsize, count = struct.unpack_from(order + "HH", data, 0x36)
        align_at, align_format = 48, "Q"
    else:  # ELF32: e_phoff at 0x1C, e_phentsize/e_phnum at 0x2A; p_align at 28
        (phoff,) = struct.unpack_from(order + "I", data, 0x1C)
        entsize, count = struct.unpack_from(order + "HH", data, 0x2A)
        align_at, align_format = 28, "I"
    alignments = []
    for index in range(count):
        start = phoff + index * entsize
        if start + entsize > len(data):
            raise ValueError("program header table past the end of the file")
        (kind,) = struct.unpack_from(order + "I", data, start)
        if kind == PT_LOAD:
            alignments.append(struct.unpack_from(order + align_format, data, start + align_at)[0])
    return alignments


def check_apk(apk, page: int = PAGE, asset_alignment: int = ASSET_ALIGNMENT) -> tuple[list[str], list[str]]:
    """(lines saying what was checked, problems). No problems: the APK passes."""
    checked, problems = [], []
    with zipfile.ZipFile(apk) as archive:
        for entry in entries(apk):
            if entry.name.startswith("lib/") and entry.name.endswith(".so"):
                try:
                    loads = elf_load_alignments(archive.read(entry.name))
                except (ValueError, struct.error) as error:
                    problems.append(f"{entry.name}: cannot read its ELF program headers ({error})")
                    loads = []
                small = [a for a in loads if a < page]
                if small:
                    problems.append(f"{entry.name}: ELF LOAD segments aligned to {min(small)} bytes, "
                                    f"not {page} (rebuild the library with 16 KB max page size)")
                if not entry.stored:
                    problems.append(f"{entry.name}: compressed; native libraries must be stored "
                                    "(packaging.jniLibs.useLegacyPackaging = false)")
                elif entry.offset % page:
                    problems.append(f"{entry.name}: data at offset {entry.offset}, not a multiple of {page} "
                                    "(zipalign -P 16)")
                checked.append(f"{entry.name}: {'stored' if entry.stored else 'compressed'} at {entry.offset}"
                               f" (mod {page} = {entry.offset % page}), ELF LOAD p_align {sorted(set(loads))}")
            elif entry.name.startswith("assets/") and entry.name.endswith(".tflite"):
                if not entry.stored:
                    problems.append(f"{entry.name}: compressed; models must be stored to be memory-mapped "
                                    "(androidResources.noCompress += \"tflite\")")
                elif entry.offset % asset_alignment:
                    problems.append(f"{entry.name}: data at offset {entry.offset}, not a multiple of "
                                    f"{asset_alignment} (zipalign 4)")
                checked.append(f"{entry.name}: {'stored' if entry.stored else 'compressed'} at {entry.offset} "
                               f"(mod {asset_alignment} = {entry.offset % asset_alignment})")
    return checked, problems


def sdk_zipalign() -> pathlib.Path | None:
    """The newest build-tools' zipalign of the Android SDK ($ANDROID_HOME / $ANDROID_SDK_ROOT)."""
    for variable in ("ANDROID_HOME", "ANDROID_SDK_ROOT"):
        root = os.environ.get(variable)
        if root:
            found = sorted((pathlib.Path(root) / "build-tools").glob("*/zipalign"),
                           key=lambda p: [int(x) if x.isdigit() else 0 for x in p.parent.name.split(".")])
            if found:
                return found[-1]
    return None


def run_zipalign(apk, zipalign) -> tuple[bool, str]:
    """``zipalign -c -P 16 -v 4 APK``: (passed, its output)."""
    done = subprocess.run([str(zipalign), "-c", "-P", "16", "-v", "4", str(apk)], capture_output=True, text=True)
    return done.returncode == 0, (done.stdout + done.stderr).strip()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("apk")
    parser.add_argument("--zipalign", default="auto",
                        help="auto: also run the SDK's zipalign -c -P 16 -v 4 where found; require: fail without "
                             "it; none; or the zipalign executable to run")
    args = parser.parse_args(argv)
    try:
        checked, problems = check_apk(args.apk)
    except (OSError, ValueError, zipfile.BadZipFile) as error:
        print(f"apk_alignment: {args.apk}: {error}", file=sys.stderr)
        return 1
    for line in checked:
        print(line)
    if not checked:
        print(f"{args.apk}: no native libraries and no .tflite assets to check")
    if args.zipalign != "none":
        zipalign = sdk_zipalign() if args.zipalign in ("auto", "require") else pathlib.Path(args.zipalign)
        if zipalign is None:
            note = "no Android SDK zipalign under $ANDROID_HOME/$ANDROID_SDK_ROOT build-tools"
            if args.zipalign == "require":
                problems.append(note)
            else:
                print(f"note: {note}; zipalign -c -P 16 not run")
        else:
            passed, output = run_zipalign(args.apk, zipalign)
            print(f"{zipalign} -c -P 16 -v 4: {'passed' if passed else 'FAILED'}")
            if not passed:
                problems.append(f"zipalign -c -P 16 -v 4 failed:\n{output[-3000:]}")
    for problem in problems:
        print(f"PROBLEM: {problem}", file=sys.stderr)
    print(f"{args.apk}: {'aligned' if not problems else f'{len(problems)} problem(s)'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
