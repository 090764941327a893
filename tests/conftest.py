import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import rt_keras  # noqa: E402,F401


@pytest.fixture(autouse=True)
def _seed():
    from rt_keras.backend import keras

    keras.utils.set_random_seed(1234)
    np.random.seed(1234)


@pytest.fixture(scope="session")
def tiny_config(tmp_path_factory):
    """The tiny run config with its data materialised once per test session."""
    import pathlib

    from rt_keras import run_config
    from rt_keras.data.dataset import materialise

    root = pathlib.Path(__file__).parents[1]
    cache = tmp_path_factory.mktemp("data-cache")
    config = run_config.load(root / "configs" / "tiny.yaml", [f"data.cache_dir={cache}"])
    materialise(config, progress=False)
    return config
