"""Replace one marked section of docs/results.md (or append it under a heading)."""

from __future__ import annotations

import pathlib
import re

from converters.files import atomic_write_text


def write_section(path, name: str, heading: str, body: str) -> None:
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    section = f"{begin}\n{body}\n{end}"
    path = pathlib.Path(path)
    text = path.read_text() if path.exists() else "# Results\n"
    if begin in text:
        text = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda _: section, text, flags=re.S)
    else:
        text += f"\n## {heading}\n\n{section}\n"
    atomic_write_text(path, text)


def publish(table: str, path, name: str, heading: str) -> None:
    """Print ``table``; with a ``path`` (a script's --results), also write it as section ``name``."""
    print(table)
    if path:
        write_section(path, name, heading, table)
