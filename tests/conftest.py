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
