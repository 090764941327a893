"""The wheel a user gets from `pip install .` holds every module and data file of the
source tree, and installs into a fresh environment whose `rt-keras --help` works."""

import pathlib
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGES = ("rt_keras", "converters")


def test_wheel_holds_every_source_module_and_data_file_and_installs(tmp_path):
    source = tmp_path / "source"  # a clean copy: a stale build/ must not fill gaps in the wheel
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "runs", ".cache", "*.egg-info", "__pycache__", "android_demo"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--wheel-dir", str(tmp_path), str(source)], check=True, capture_output=True)
    wheel = next(tmp_path.glob("rt_keras-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {str(p.relative_to(ROOT)) for package in PACKAGES for p in (ROOT / package).rglob("*")
                if p.is_file() and "__pycache__" not in p.parts and p.suffix in (".py", ".json")}
    assert "rt_keras/data/dataset.py" in expected and "converters/footprint_schema.json" in expected
    assert sorted(expected - names) == []

    # The wheel alone in a fresh environment that sees this one's dependencies (a plain
    # path in a .pth file: this environment's own .pth files, the editable install among
    # them, are not processed there).
    env = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env)
    python = env / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    (pathlib.Path(site) / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    modules = sorted(n[:-3].replace("/", ".").removesuffix(".__init__") for n in names
                     if n.endswith(".py") and n.split("/")[0] in PACKAGES)
    code = "import importlib\nfor m in %r: importlib.import_module(m)\nimport rt_keras, sys; print(rt_keras.__file__)" % modules
    out = subprocess.run([str(python), "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().startswith(site)  # imported from the wheel, not from the source tree
    help_text = subprocess.run([str(python), "-m", "rt_keras.cli", "--help"], capture_output=True, text=True,
                               cwd=tmp_path, check=True).stdout
    assert "pipeline" in help_text and "footprint" in help_text


def test_help_and_argument_errors_do_not_load_tensorflow():
    code = ("import sys\nfrom rt_keras.cli import main\nfor argv in (['--help'], ['params', '--help'], "
            "['evaluate', '--help'], ['dedup']):\n"
            "    try:\n        main(argv)\n    except SystemExit:\n        pass\n"
            "assert 'tensorflow' not in sys.modules, 'tensorflow was imported'\n"
            "import os; assert os.environ['TF_USE_LEGACY_KERAS'] == '1'\n")
    env = {k: v for k, v in __import__("os").environ.items() if k != "TF_USE_LEGACY_KERAS"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "usage: rt-keras" in result.stdout and "the following arguments are required" in result.stderr


def test_cli_offers_exactly_the_converters_modes():
    from rt_keras.keras_to_tflite import MODES
    from rt_keras.cli import CONVERSION_MODES

    assert tuple(CONVERSION_MODES) == MODES


def _imported_packages(path: pathlib.Path) -> set[str]:
    import ast

    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_imports_run_one_way_converters_never_import_rt_keras_or_tensorflow():
    """converters/ is the TFLite-level toolkit (any .tflite); rt_keras builds on it. Not
    even a lazy import inside a function may go back, and loading every converters module
    must not load TensorFlow (the metadata writer imports it when it is called)."""
    modules = sorted((ROOT / "converters").glob("*.py"))
    assert len(modules) >= 9
    backwards = {p.name: sorted(_imported_packages(p) & {"rt_keras", "tf_keras", "tensorflow_model_optimization"})
                 for p in modules}
    assert {name: found for name, found in backwards.items() if found} == {}
    code = ("import sys\n" + "".join(f"import converters.{p.stem}\n" for p in modules if p.stem != "__init__") +
            "print(sorted(m for m in ('tensorflow', 'rt_keras', 'tf_keras') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "[]"


def test_the_app_scales_pcm_as_training_does():
    from rt_keras.task import PCM_SCALE

    pcm = (ROOT / "android_demo/core/src/main/java/org/rtkeras/demo/core/Pcm.java").read_text()
    assert f"PCM16_SCALE = {PCM_SCALE}f;" in pcm
