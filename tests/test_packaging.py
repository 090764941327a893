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
    anywhere = shutil.ignore_patterns(".git", ".venv", "build", ".cache", "*.egg-info", "__pycache__")

    def ignore(directory, names):  # runs/ and android_demo/ only at the top: rt_keras/runs is code
        top = {"runs", "android_demo"} if pathlib.Path(directory) == ROOT else set()
        return set(anywhere(directory, names)) | (top & set(names))
    shutil.copytree(ROOT, source, ignore=ignore)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--wheel-dir", str(tmp_path), str(source)], check=True, capture_output=True)
    wheel = next(tmp_path.glob("rt_keras-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {str(p.relative_to(ROOT)) for package in PACKAGES for p in (ROOT / package).rglob("*")
                if p.is_file() and "__pycache__" not in p.parts and p.suffix in (".py", ".json")}
    assert {"rt_keras/data/storage.py", "rt_keras/runs/run_dir.py", "converters/footprint_schema.json"} <= expected
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
                     if n.endswith(".py") and n.split("/")[0] in PACKAGES and not n.endswith("__main__.py"))
    code = (
        "import importlib\nfor m in %r: importlib.import_module(m)\nimport rt_keras, sys; print(rt_keras.__file__)"
        % modules
    )
    out = subprocess.run([str(python), "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().startswith(site)  # imported from the wheel, not from the source tree
    help_text = subprocess.run(
        [str(python), "-m", "rt_keras.cli", "--help"], capture_output=True, text=True, cwd=tmp_path, check=True
    ).stdout
    assert "pipeline" in help_text and "footprint" in help_text


def test_help_and_argument_errors_do_not_load_tensorflow():
    code = (
        "import sys\nfrom rt_keras.cli import main\nfor argv in (['--help'], ['params', '--help'], "
        "['evaluate', '--help'], ['dedup']):\n"
        "    try:\n        main(argv)\n    except SystemExit:\n        pass\n"
        "assert 'tensorflow' not in sys.modules, 'tensorflow was imported'\n"
        "import os; assert os.environ['TF_USE_LEGACY_KERAS'] == '1'\n"
    )
    env = {k: v for k, v in __import__("os").environ.items() if k != "TF_USE_LEGACY_KERAS"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "usage: rt-keras" in result.stdout and "the following arguments are required" in result.stderr


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
    backwards = {
        p.name: sorted(_imported_packages(p) & {"rt_keras", "tf_keras", "tensorflow_model_optimization"})
        for p in modules
    }
    assert {name: found for name, found in backwards.items() if found} == {}
    code = (
        "import sys\n"
        + "".join(f"import converters.{p.stem}\n" for p in modules if p.stem != "__init__")
        + "print(sorted(m for m in ('tensorflow', 'rt_keras', 'tf_keras') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "[]"


def test_the_app_scales_pcm_as_training_does():
    from rt_keras.core.contracts import PCM_SCALE

    pcm = (ROOT / "android_demo/core/src/main/java/org/rtkeras/demo/core/Pcm.java").read_text()
    assert f"PCM16_SCALE = {PCM_SCALE}f;" in pcm


# rt_keras's layers, bottom first: a module may import only from its own layer or below
# (siblings on one rank never import each other). converters/ is below them all.
LAYERS = (
    ("rt_keras._environment",),
    ("rt_keras.core",),
    ("rt_keras.backend",),
    ("rt_keras.layers",),
    ("rt_keras.data", "rt_keras.model"),
    ("rt_keras.training", "rt_keras.export"),
    ("rt_keras.runs",),
    ("rt_keras.cli",),
)


def _rank(module: str) -> tuple[int, str]:
    for rank, names in enumerate(LAYERS):
        for name in names:
            if module == name or module.startswith(name + "."):
                return rank, name
    return 0, LAYERS[0][0]  # the package itself: rt_keras/__init__.py imports only _environment


def _module_imports(path: pathlib.Path) -> list[tuple[int, str]]:
    """(line, module) of every rt_keras import in ``path``, at module level or inside a function."""
    import ast

    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            # `from rt_keras.data import shards` imports the module rt_keras.data.shards
            found += [
                (node.lineno, f"{node.module}.{alias.name}")
                if (ROOT / node.module.replace(".", "/") / f"{alias.name}.py").is_file()
                else (node.lineno, node.module)
                for alias in node.names
            ]
    return [(line, module) for line, module in found if module.split(".")[0] == "rt_keras"]


def _rt_keras_modules() -> dict[str, pathlib.Path]:
    return {
        ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"): p
        for p in (ROOT / "rt_keras").rglob("*.py")
    }


def layering_violations(modules: dict[str, pathlib.Path]) -> list[str]:
    problems = []
    for name, path in modules.items():
        rank, layer = _rank(name)
        for line, imported in _module_imports(path):
            their_rank, their_layer = _rank(imported)
            if their_rank > rank or (their_rank == rank and their_layer != layer):
                problems.append(f"{name}:{line} imports {imported} ({their_layer} is not below {layer})")
    return problems


def import_cycles(modules: dict[str, pathlib.Path]) -> list[list[str]]:
    """Every strongly connected group of more than one module (imports in functions count)."""
    graph = {
        name: {m for _, m in _module_imports(path) if m in modules and m != name} for name, path in modules.items()
    }
    index, low, stack, on_stack, groups, counter = {}, {}, [], set(), [], [0]

    def visit(node):  # Tarjan
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def test_rt_keras_imports_run_down_its_layers_and_have_no_cycles():
    modules = _rt_keras_modules()
    assert len(modules) >= 60
    assert {_rank(name)[0] for name in modules} >= set(range(len(LAYERS)))  # every layer has modules
    assert layering_violations(modules) == []
    assert import_cycles(modules) == []


def test_the_layer_check_catches_an_upward_import_and_a_cycle(tmp_path):
    """A data module that imports the model (siblings), and a core module that imports a
    run step from inside a function, are both caught; so is the cycle they make."""
    modules = _rt_keras_modules()
    data = tmp_path / "storage.py"
    data.write_text(
        modules["rt_keras.data.storage"].read_text() + "\nfrom rt_keras.model.encoder import build_encoder\n"
    )
    core = tmp_path / "contracts.py"
    core.write_text(
        modules["rt_keras.core.contracts"].read_text()
        + "\ndef late():\n    from rt_keras.data.storage import load_split\n"
    )
    changed = {**modules, "rt_keras.data.storage": data, "rt_keras.core.contracts": core}
    problems = layering_violations(changed)
    assert any("imports rt_keras.model.encoder (rt_keras.model is not below rt_keras.data)" in p for p in problems)
    assert any("imports rt_keras.data.storage (rt_keras.data is not below rt_keras.core)" in p for p in problems)
    assert any({"rt_keras.core.contracts", "rt_keras.data.storage"} <= set(group) for group in import_cycles(changed))
