"""The README's example must run as written."""

import pathlib
import re


ROOT = pathlib.Path(__file__).parents[1]


def _python_blocks():
    return re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)


def test_readme_example_runs():
    blocks = _python_blocks()
    assert blocks, "README has no python example"
    namespace = {}
    exec(compile(blocks[0], "README.md", "exec"), namespace)
    encoder = namespace["encoder"]
    assert encoder.output_shape == (None, None, 144)


def test_readme_python_api_example_fits_a_model(monkeypatch):
    (block,) = [b for b in _python_blocks() if "model.fit" in b]
    monkeypatch.chdir(ROOT)
    namespace = {}
    exec(compile(block, "README.md", "exec"), namespace)
    losses = namespace["history"].history["loss"]
    assert len(losses) == 1 and 0 < losses[0] < 1e4
    tokens = namespace["tokens"].tokens  # "Stop!" -> "stop" in characters, padded to "turn on the light"
    assert namespace["targets"].tolist()[1][1:] == [tokens.index(c) for c in "stop"] + [-1] * 13
