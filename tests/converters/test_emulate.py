"""converters/emulate.py: the arm64 runtime under QEMU, and our files on phone-class CPUs.

The runtime is built by `make arm64-runtime` (a prerequisite of `make test`). The tests
that run it are required: without a runtime they fail, they never skip."""

import json
import os
import pathlib
import signal
import subprocess

import numpy as np
import pytest

from converters import emulate

SAMPLES = 640  # ten frames of 64 samples


# ---------------------------------------------------------------------------------------
# without the emulator


def test_unknown_and_refused_cpus_are_named_with_the_list():
    assert emulate.check_cpu("cortex-a53") == "cortex-a53"
    for cpu in ("cortex-a999", "max", "host"):
        with pytest.raises(emulate.EmulationError, match="emulated CPUs: cortex-a35, cortex-a53"):
            emulate.check_cpu(cpu)
    with pytest.raises(emulate.EmulationError, match="advertises SME"):
        emulate.check_cpu("max")
    assert {"cortex-a53", "cortex-a76", "max,sme=off"} <= set(emulate.CPUS)
    assert emulate.view_name("max,sme=off") == "max-sme-off"


def test_cpuinfo_decodes_midr_and_hwcaps():
    text = emulate.cpuinfo(0x410FD034, 0b11 | 1 << 8, 1 << 13, processors=2)
    assert text.count("processor\t:") == 2
    assert "CPU implementer\t: 0x41\n" in text and "CPU part\t: 0xd03\n" in text
    assert "CPU variant\t: 0x0\n" in text and "CPU revision\t: 4\n" in text
    assert "Features\t: fp asimd atomics i8mm\n" in text


def test_arm64_sources_keep_the_hosts_release_only(tmp_path):
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list.d" / "debian.sources").write_text(
        "Types: deb\n# a comment\nURIs: http://mirror.example/debian\nSuites: bookworm bookworm-updates\n"
        "Components: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n"
        "Types: deb-src\nURIs: http://mirror.example/debian\nSuites: bookworm\nComponents: main\n")
    (tmp_path / "sources.list.d" / "old.sources").write_text(
        "Types: deb\nURIs: http://mirror.example/debian\nSuites: bullseye\nComponents: main\n")
    (tmp_path / "sources.list").write_text(
        "deb [signed-by=/k.gpg] http://security.example/debian-security bookworm-security main\n"
        "# deb http://mirror.example/debian trixie main\n")
    text = emulate.arm64_sources("bookworm", tmp_path)
    stanzas = text.split("\n\n")
    assert len(stanzas) == 2 and "bullseye" not in text and "deb-src" not in text and "trixie" not in text
    assert all("Architectures: arm64" in s and "Types: deb\n" in s for s in stanzas)
    assert "Suites: bookworm bookworm-updates" in stanzas[0] and "Signed-By: /k.gpg" in stanzas[1]
    with pytest.raises(emulate.EmulationError, match="no Debian trixie sources"):
        emulate.arm64_sources("trixie", tmp_path)


def test_build_is_a_no_op_when_the_runtime_is_up_to_date(tmp_path, monkeypatch):
    monkeypatch.setattr(emulate, "qemu_version", lambda: "qemu-aarch64 version 7.2.22")
    (tmp_path / emulate.MANIFEST).write_text(json.dumps(emulate.wanted()))

    def must_not_run(*args, **kwargs):
        raise AssertionError("rebuilt an up-to-date runtime")
    monkeypatch.setattr(emulate, "build_sysroot", must_not_run)
    assert emulate.build(tmp_path, log=lambda line: None)["litert"] == emulate.LITERT
    monkeypatch.setattr(emulate, "qemu_version", lambda: "qemu-aarch64 version 8.0")  # another QEMU: rebuild
    with pytest.raises(AssertionError, match="rebuilt"):
        emulate.build(tmp_path, log=lambda line: None)
    assert not list(tmp_path.parent.glob(f"{tmp_path.name}.building-*"))  # the staging directory is gone


def test_a_missing_runtime_says_how_to_build_it(tmp_path):
    with pytest.raises(emulate.EmulationError, match="make arm64-runtime"):
        emulate.require(tmp_path)


def test_the_cli_refuses_an_unknown_cpu_with_the_list(capsys):
    from rt_keras.cli import main

    with pytest.raises(SystemExit) as exited:
        main(["footprint", "model.tflite", "--emulate", "cortex-a999"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "unknown CPU 'cortex-a999'" in err and "cortex-a53, " in err and "max,sme=off" in err


# ---------------------------------------------------------------------------------------
# on the emulator (required: `make arm64-runtime` built it)


@pytest.fixture(scope="module")
def runtime():
    """The built runtime's manifest; a missing runtime fails (CI must have built it)."""
    try:
        return emulate.require()
    except emulate.EmulationError as error:
        pytest.fail(f"{error} (the emulated parity tests are required, never skipped)")


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory):
    """One Dense instance called three times (one shared weight, three readers) and a head,
    converted by the repository's export in float32 and dynamic and deduplicated."""
    from benchmarks.arm64_emulated import tiny_models

    return tiny_models(tmp_path_factory.mktemp("emulated-models"))


def audio() -> np.ndarray:
    t = np.arange(SAMPLES, dtype=np.float32)
    return (0.5 * np.sin(t / 7.0) + 0.1 * np.cos(t / 3.0)).astype(np.float32)[None]


# Runs in the arm64 Python: every model through the Interpreter (and CompiledModel when asked).
RUN_MODELS = """
import json, sys
import numpy as np
from ai_edge_litert.interpreter import Interpreter
x = np.asarray(json.loads(sys.argv[1]), np.float32)
outputs = {}
for path in sys.argv[3:]:
    if sys.argv[2] == "compiled":
        from converters.footprint_probe import compiled_model, compiled_runner
        outputs[path] = compiled_runner(compiled_model(path, 1), x.shape[1])(x).tolist()
        continue
    interpreter = Interpreter(model_path=path, num_threads=1)
    (detail,) = interpreter.get_input_details()
    interpreter.resize_tensor_input(detail["index"], list(x.shape))
    interpreter.allocate_tensors()
    interpreter.set_tensor(detail["index"], x)
    interpreter.invoke()
    outputs[path] = interpreter.get_tensor(interpreter.get_output_details()[0]["index"]).tolist()
print(json.dumps(outputs))
"""


def run_emulated(cpu, paths, how="interpreter", env=None) -> subprocess.CompletedProcess:
    return emulate.run_python(cpu, ["-c", RUN_MODELS, json.dumps(audio().tolist()), how, *map(str, paths)],
                              timeout=300, env=env)


def outputs_of(done) -> dict:
    assert done.returncode == 0, done.stderr[-2000:]
    return {pathlib.Path(k).name: np.asarray(v) for k, v in json.loads(done.stdout.splitlines()[-1]).items()}


def host_outputs(paths) -> dict:
    from ai_edge_litert.interpreter import Interpreter

    result = {}
    for path in paths:
        interpreter = Interpreter(model_path=str(path), num_threads=1)
        (detail,) = interpreter.get_input_details()
        interpreter.resize_tensor_input(detail["index"], [1, SAMPLES])
        interpreter.allocate_tensors()
        interpreter.set_tensor(detail["index"], audio())
        interpreter.invoke()
        result[path.name] = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
    return result


def test_cpu_views_describe_the_emulated_cpus(runtime):
    """Each CPU's -L root has an arm64 /proc/cpuinfo read from that CPU: Cortex-A53 has
    neither dot product nor LSE atomics, Cortex-A76 has both, max,sme=off has I8MM and no SME."""
    features = {cpu: set(runtime["cpu_views"][cpu]["features"].split()) for cpu in emulate.CPUS}
    assert not {"asimddp", "atomics"} & features["cortex-a53"]
    assert {"asimddp", "atomics"} <= features["cortex-a76"]
    assert "i8mm" in features["max,sme=off"] and "sme" not in features["max,sme=off"]
    assert runtime["cpu_views"]["cortex-a53"]["midr"] == "0x410fd034"  # ARM (0x41), part 0xd03
    cpuinfo = emulate.DEFAULT_DIR / "cpus" / "cortex-a76" / "proc" / "cpuinfo"
    assert "CPU part\t: 0xd0b" in cpuinfo.read_text()


@pytest.mark.parametrize("cpu", ["cortex-a53", "cortex-a76"])
def test_interpreter_outputs_on_arm64_match_x86(runtime, tiny_models, cpu):
    """The parity check CI runs: the same files give the same outputs on the phone-class
    CPU's kernels (NEON on A53, SDOT on A76) as on this host's, within float rounding for
    float32 and within the int8 rounding of dynamic-range quantisation."""
    paths = list(tiny_models.values())
    host = host_outputs(paths)
    arm = outputs_of(run_emulated(cpu, paths))
    float32, dynamic = (f"tiny-{mode}.tflite" for mode in ("float32", "dynamic"))
    assert arm[float32].shape == host[float32].shape == (1, SAMPLES // 64, 8)
    np.testing.assert_allclose(arm[float32], host[float32], rtol=1e-4, atol=1e-5)
    scale = float(np.abs(host[dynamic]).max())
    np.testing.assert_allclose(arm[dynamic], host[dynamic], rtol=0, atol=0.02 * scale)
    np.testing.assert_allclose(arm[dynamic], host[float32], rtol=0, atol=0.1 * scale)  # and still the model


def farm_without(site: pathlib.Path, target: pathlib.Path, package: str, drop: str) -> pathlib.Path:
    """``target``: ``site`` as symbolic links, less ``package/drop``."""
    target.mkdir()
    for entry in site.iterdir():
        if entry.name != package:
            (target / entry.name).symlink_to(entry)
    (target / package).mkdir()
    for entry in (site / package).iterdir():
        if entry.name != drop:
            (target / package / entry.name).symlink_to(entry)
    return target


def test_compiled_model_dies_with_sigill_on_armv8_0_and_the_workaround(runtime, tiny_models, tmp_path):
    """The wheel's CompiledModel loads its WebGPU accelerator library, built with ARMv8.1
    LSE atomics, even for the CPU: on Cortex-A53 (ARMv8.0) the process dies with SIGILL
    while the Interpreter works (test above). Without that one library in the installed
    package (the workaround in docs/results.md) CompiledModel runs on the CPU, weight
    cache included, and gives the x86 outputs."""
    path = tiny_models["float32"]
    died = run_emulated("cortex-a53", [path], "compiled")
    assert died.returncode in (-signal.SIGILL, 128 + signal.SIGILL), (died.returncode, died.stderr[-1000:])
    assert "compiled with lse enabled" in died.stderr
    site = farm_without(emulate.DEFAULT_DIR / "site", tmp_path / "site", "ai_edge_litert",
                        "libLiteRtWebGpuAccelerator.so")
    env = {"PYTHONPATH": os.pathsep.join([str(site), str(emulate.ROOT)])}
    worked = outputs_of(run_emulated("cortex-a53", [path], "compiled", env=env))
    np.testing.assert_allclose(worked[path.name], host_outputs([path])[path.name], rtol=1e-4, atol=1e-5)


def test_footprint_under_emulation_follows_the_schema_without_timings(runtime, tiny_models):
    from converters.footprint import footprint, validate

    report = footprint(tiny_models["dynamic"], seconds=SAMPLES / 16000, emulate="cortex-a53")
    validate(report)
    rt = report["runtime"]
    assert rt["status"] == "ok", rt["error"]
    assert not {"latency_ms", "real_time_factor", "load_ms", "chunk_latency_ms"} & set(rt)
    assert rt["emulated"]["cpu"] == "cortex-a53" and "not the emulated CPU" in rt["emulated"]["timings"]
    assert rt["runs"] == 1 and rt["activations"]["peak_live_bytes"] > 0
    assert report["device"]["kind"] == "emulated" and report["device"]["cpu"].startswith("cortex-a53 (emulated")
    assert report["device"]["abi"] == "aarch64"
    timed = dict(report, runtime={**rt, "latency_ms": {"median": 1.0, "p90": 1.0, "min": 1.0}})
    with pytest.raises(Exception, match="should not be valid|is not valid"):  # never emulated timings
        validate(timed)


def test_translated_blocks_and_kernel_names_from_addresses():
    log = ("----------------\nIN: \n0x0000005500001000:  d503201f  nop\n0x0000005500001004:  d65f03c0  ret\n\n"
           "----------------\nIN: some_symbol\n0x0000005500002010:  d65f03c0  ret\n\n"
           "IN: \n0x0000004000000000:  d65f03c0  ret\n")
    blocks = emulate.translated_blocks(log)
    assert blocks == [0x5500001000, 0x5500002010, 0x4000000000]
    symbols = [(0x1000, 0x10, "xnn_f32_gemm_minmax_ukernel_6x8__neonfma"), (0x2000, 0x100, "tflite_other"),
               (0x3000, 0x10, "xnn_qd8_f32_qc8w_gemm_minmax_ukernel_4x16c4__neondot")]
    maps = [[0x5500000000, 0x5500004000, 0], [0x5500004000, 0x5500005000, 0x4000]]
    assert emulate.kernels_run(blocks, maps, symbols) == {"xnn_f32_gemm_minmax_ukernel_6x8__neonfma": 1}
    assert emulate.kernels_run(blocks, maps, symbols, pattern="other") == {"tflite_other": 1}
    with pytest.raises(emulate.EmulationError, match="not mapped"):
        emulate.kernels_run(blocks, [], symbols)


def test_the_wheels_library_has_xnnpacks_kernel_symbols(runtime):
    names = {name for _, _, name in emulate.function_symbols(
        emulate.DEFAULT_DIR / "site" / "ai_edge_litert" / emulate.LIBRARY)}
    assert any(n.startswith("xnn_f32_gemm_minmax_ukernel_") and "cortex_a53" in n for n in names)
    assert any(n.startswith("xnn_qd8_f32_qc8w_gemm_minmax_ukernel_") and "neondot" in n for n in names)


def test_phone_cpus_run_their_own_int8_kernels(runtime, tiny_models):
    """The same dynamic-range file runs XNNPACK's dot-product (SDOT) kernels on Cortex-A76
    and none on Cortex-A53, which lacks the instruction: the emulator shows the phone's
    kernel choice, not the host's."""
    a53 = emulate.kernels(tiny_models["dynamic"], "cortex-a53", SAMPLES)["kernels"]
    a76 = emulate.kernels(tiny_models["dynamic"], "cortex-a76", SAMPLES)["kernels"]
    gemm = [k for k in a76 if "gemm" in k and "packw" not in k and k.startswith("xnn_q")]
    assert gemm and all("neondot" in k for k in gemm), a76
    assert not any("neondot" in k or "i8mm" in k for k in a53), a53
