"""The app's ARMv8.0 guard against arm64 LiteRT under QEMU (converters/emulate.py): the
Android core's EnginePlan, given the /proc/cpuinfo each emulated CPU presents, must choose
the Interpreter exactly where the app's CompiledModel options die with SIGILL (the
ai-edge-litert 2.3.0 aarch64 wheel loads a GPU accelerator library built with ARMv8.1
atomics even for CPU-only options), and the Interpreter must run there. This is the Python
wheel, not the Android AAR: it checks the rule and the cpuinfo parsing on real kernel-format
text, not the phone (android_demo/README.md says what only a phone can show).
"""

import pathlib
import signal
import subprocess

import pytest

from tests.android.test_weight_cache import streaming_step

ROOT = pathlib.Path(__file__).resolve().parents[2]
CORE = ROOT / "android_demo" / "core" / "src" / "main" / "java"

emulate = pytest.importorskip("converters.emulate")

PLAN_OF = """
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;

public class PlanOf {
    public static void main(String[] files) throws Exception {
        for (String file : files) {
            String text = new String(Files.readAllBytes(Paths.get(file)), StandardCharsets.UTF_8);
            System.out.println(org.rtkeras.demo.core.EnginePlan.choose(true, "arm64-v8a", text).api);
        }
    }
}
"""

LOAD = ("import sys\n"
        "from converters.footprint_probe import app_compiled_model\n"
        "app_compiled_model(sys.argv[1], 1, sys.argv[2])\n"
        "print('loaded')\n")
INTERPRET = ("import sys\n"
             "from ai_edge_litert.interpreter import Interpreter\n"
             "Interpreter(model_path=sys.argv[1], num_threads=1).get_signature_runner()\n"
             "print('loaded')\n")


def views() -> dict:
    directory = emulate.DEFAULT_DIR / "cpus"
    found = {p.parent.parent.name: p for p in sorted(directory.glob("*/proc/cpuinfo"))}
    if not {"cortex-a53", "cortex-a76"} <= set(found):
        pytest.skip("the arm64 runtime is not built (make arm64-runtime)")
    return found


def plans(cpuinfo_files: dict, tmp_path) -> dict:
    classes = tmp_path / "classes"
    (tmp_path / "PlanOf.java").write_text(PLAN_OF)
    sources = [str(p) for p in CORE.rglob("*.java")] + [str(tmp_path / "PlanOf.java")]
    subprocess.run(["javac", "--release", "8", "-Xlint:-options", "-d", str(classes), *sources], check=True)
    names = list(cpuinfo_files)
    out = subprocess.run(["java", "-cp", str(classes), "PlanOf", *[str(cpuinfo_files[n]) for n in names]],
                         check=True, capture_output=True, text=True).stdout.split()
    return dict(zip(names, out))


def test_the_app_falls_back_to_the_interpreter_exactly_where_compiled_model_dies(tmp_path):
    cpuinfo = views()
    chosen = plans(cpuinfo, tmp_path)
    # Every ARMv8.0 core QEMU emulates lacks LSE atomics; the ARMv8.2 ones have them.
    for cpu, api in chosen.items():
        has_atomics = " atomics " in f" {cpuinfo[cpu].read_text()} ".replace("\n", " ")
        assert api == ("COMPILED_MODEL" if has_atomics else "INTERPRETER"), (cpu, api)
    assert chosen["cortex-a53"] == "INTERPRETER" and chosen["cortex-a76"] == "COMPILED_MODEL"

    model = tmp_path / "step.tflite"
    model.write_bytes(streaming_step(shared=True))
    for cpu in ("cortex-a53", "cortex-a76"):
        run = emulate.run_python(cpu, ["-c", LOAD, model, tmp_path / f"{cpu}.xnnpack_cache"], timeout=900)
        if chosen[cpu] == "COMPILED_MODEL":
            assert run.returncode == 0 and "loaded" in run.stdout, run.stderr[-2000:]
        else:  # the app's CompiledModel options kill the process where the plan refuses them
            assert run.returncode == -signal.SIGILL, (run.returncode, run.stderr[-2000:])
    run = emulate.run_python("cortex-a53", ["-c", INTERPRET, model], timeout=900)
    assert run.returncode == 0 and "loaded" in run.stdout, run.stderr[-2000:]  # the fallback runs there
