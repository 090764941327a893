"""The README's example must run as written."""

import pathlib
import re


def test_readme_example_runs():
    readme = (pathlib.Path(__file__).parents[1] / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, re.S)
    assert blocks, "README has no python example"
    namespace = {}
    exec(compile(blocks[0], "README.md", "exec"), namespace)
    encoder = namespace["encoder"]
    assert encoder.output_shape == (None, None, 144)
