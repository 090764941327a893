"""Saving Keras models atomically (the file-level helpers are in converters.files)."""

from __future__ import annotations

import pathlib

from converters.files import atomic_path


def save_model(model, path, weights_only: bool = False) -> None:
    """``model.save`` (or ``save_weights``) to ``path`` atomically (Keras insists on the
    .keras / .weights.h5 suffix)."""
    path = pathlib.Path(path)
    with atomic_path(path) as tmp:
        staged = tmp.with_name(tmp.name + (".weights.h5" if weights_only else ".keras"))
        model.save_weights(str(staged)) if weights_only else model.save(str(staged))
        staged.replace(tmp)
