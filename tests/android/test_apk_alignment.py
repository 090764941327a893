"""benchmarks/apk_alignment.py on synthetic APKs (zip files built here): native libraries
stored at 16 KB-aligned offsets with 16 KB ELF LOAD alignment, models stored 4-byte aligned.
The workflow runs it on Gradle's APK; `make android-apk` runs it on the APK built here."""

import io
import os
import stat
import struct
import zipfile

import pytest

from benchmarks.apk_alignment import PAGE, check_apk, elf_load_alignments, main

MODEL = b"TFL3" + bytes(100)


def elf(p_align: int, bits: int = 64) -> bytes:
    """A minimal ELF shared object: its header and one PT_LOAD program header."""
    if bits == 64:
        header = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9) + struct.pack("<HHIQQQIHHHHHH", 3, 183, 1, 0, 64, 0, 0,
                                                                        64, 56, 1, 0, 0, 0)
        return header + struct.pack("<IIQQQQQQ", 1, 5, 0, 0, 0, 120, 120, p_align)
    header = b"\x7fELF" + bytes([1, 1, 1]) + bytes(9) + struct.pack("<HHIIIIIHHHHHH", 3, 40, 1, 0, 52, 0, 0, 52, 32,
                                                                    1, 0, 0, 0)
    return header + struct.pack("<IIIIIIII", 1, 0, 0, 0, 84, 84, 5, p_align)


def apk(path, members, misalign=()):
    """A zip whose stored members start at offsets aligned as an APK's would be (16 KB for
    .so, 4 for the rest), except the names in ``misalign``, which are 1 byte off."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data, method in members:
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = method
            if method == zipfile.ZIP_STORED:
                alignment = PAGE if name.endswith(".so") else 4
                start = buffer.tell() + 30 + len(name.encode())
                padding = -start % alignment + (1 if name in misalign else 0)
                info.extra = bytes(padding)
            archive.writestr(info, data)
    path.write_bytes(buffer.getvalue())
    return path


def test_elf_load_alignment_is_read_from_32_and_64_bit_libraries():
    assert elf_load_alignments(elf(16384)) == [16384]
    assert elf_load_alignments(elf(4096, bits=32)) == [4096]
    with pytest.raises(ValueError, match="not an ELF"):
        elf_load_alignments(b"not an elf at all")


def test_an_aligned_apk_passes(tmp_path, capsys):
    good = apk(tmp_path / "good.apk", [
        ("AndroidManifest.xml", b"<manifest/>", zipfile.ZIP_DEFLATED),
        ("lib/arm64-v8a/libLiteRt.so", elf(16384), zipfile.ZIP_STORED),
        ("lib/x86_64/libLiteRt.so", elf(65536), zipfile.ZIP_STORED),
        ("assets/models/rt-qat-int8.tflite", MODEL, zipfile.ZIP_STORED),
        ("assets/sample.wav", b"RIFF" + bytes(40), zipfile.ZIP_DEFLATED),
    ])
    checked, problems = check_apk(good)
    assert problems == []
    assert len(checked) == 3 and all("stored" in line for line in checked)
    assert main([str(good), "--zipalign", "none"]) == 0
    assert "good.apk: aligned" in capsys.readouterr().out


def test_a_misaligned_library_fails(tmp_path, capsys):
    bad = apk(tmp_path / "bad.apk", [
        ("lib/arm64-v8a/libaligned.so", elf(16384), zipfile.ZIP_STORED),
        ("lib/arm64-v8a/libmisaligned.so", elf(16384), zipfile.ZIP_STORED),
    ], misalign={"lib/arm64-v8a/libmisaligned.so"})
    _, problems = check_apk(bad)
    assert len(problems) == 1 and problems[0].startswith("lib/arm64-v8a/libmisaligned.so: data at offset")
    assert f"not a multiple of {PAGE}" in problems[0]
    assert main([str(bad), "--zipalign", "none"]) == 1
    assert "PROBLEM: lib/arm64-v8a/libmisaligned.so" in capsys.readouterr().err


def test_4k_elf_segments_compressed_libraries_and_models_fail(tmp_path):
    bad = apk(tmp_path / "bad.apk", [
        ("lib/arm64-v8a/lib4k.so", elf(4096), zipfile.ZIP_STORED),
        ("lib/armeabi-v7a/libdeflated.so", elf(16384, bits=32), zipfile.ZIP_DEFLATED),
        ("assets/models/deflated.tflite", MODEL, zipfile.ZIP_DEFLATED),
        ("assets/models/odd.tflite", MODEL, zipfile.ZIP_STORED),
    ], misalign={"assets/models/odd.tflite"})
    _, problems = check_apk(bad)
    assert len(problems) == 4, problems
    assert "lib4k.so: ELF LOAD segments aligned to 4096 bytes" in problems[0]
    assert "libdeflated.so: compressed" in problems[1]
    assert "deflated.tflite: compressed" in problems[2]
    assert "odd.tflite: data at offset" in problems[3] and "not a multiple of 4" in problems[3]


def test_zipalign_is_run_with_16_kb_pages_and_its_failure_counts(tmp_path, monkeypatch, capsys):
    good = apk(tmp_path / "good.apk", [("lib/x86_64/liba.so", elf(16384), zipfile.ZIP_STORED)])
    tools = tmp_path / "sdk" / "build-tools" / "35.0.0"
    tools.mkdir(parents=True)
    zipalign = tools / "zipalign"
    zipalign.write_text(f'#!/bin/sh\necho "$@" > {tmp_path}/args\nexit "${{ZIPALIGN_EXIT:-0}}"\n')
    zipalign.chmod(zipalign.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("ANDROID_HOME", str(tmp_path / "sdk"))
    assert main([str(good), "--zipalign", "require"]) == 0
    assert (tmp_path / "args").read_text().split() == ["-c", "-P", "16", "-v", "4", str(good)]
    monkeypatch.setenv("ZIPALIGN_EXIT", "1")
    assert main([str(good), "--zipalign", str(zipalign)]) == 1
    monkeypatch.delenv("ANDROID_HOME")
    monkeypatch.delenv("ANDROID_SDK_ROOT", raising=False)
    capsys.readouterr()
    assert main([str(good)]) == 0  # auto: no SDK, noted and skipped
    assert "zipalign -c -P 16 not run" in capsys.readouterr().out
    assert main([str(good), "--zipalign", "require"]) == 1


def test_not_a_zip_is_an_error(tmp_path):
    broken = tmp_path / "broken.apk"
    broken.write_bytes(b"PK\x03\x04 not really")
    assert main([str(broken), "--zipalign", "none"]) == 1
    assert os.path.exists(broken)
