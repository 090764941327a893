import dataclasses
import os
import pathlib

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import rt_keras  # noqa: E402,F401
from rt_keras.core.vocabulary import DIGITS


@pytest.fixture(autouse=True)
def _seed():
    from rt_keras.backend import keras

    keras.utils.set_random_seed(1234)
    np.random.seed(1234)


@pytest.fixture(scope="session")
def tiny_config(tmp_path_factory):
    """The tiny run config with its data materialised once per test session."""
    from rt_keras.core import run_config
    from rt_keras.data.materialise import materialise

    root = pathlib.Path(__file__).parents[1]
    cache = tmp_path_factory.mktemp("data-cache")
    config = run_config.load(root / "configs" / "tiny.yaml", [f"data.cache_dir={cache}"])
    materialise(config, progress=False)
    return config


@pytest.fixture(scope="session")
def tiny_run(tiny_config, tmp_path_factory):
    """A trained tiny run directory (2 epochs) shared by the conversion and footprint tests."""
    import copy

    from rt_keras.runs.train import train

    config = copy.deepcopy(tiny_config)
    config.train.epochs = 2
    run_dir = tmp_path_factory.mktemp("tiny-run")
    train(config, run_dir, progress=False)
    return run_dir


@pytest.fixture(scope="session")
def tiny_qat_run(tiny_run):
    """``tiny_run`` with its quantisation-aware fine-tuning done (``RUN_DIR/qat``)."""
    from rt_keras.runs.qat import finetune

    finetune(tiny_run, progress=False)
    return tiny_run


@dataclasses.dataclass
class TinyConverted:
    """The tiny run with every conversion mode done once."""
    run_dir: pathlib.Path
    config: object  # its RunConfig
    model: object  # the float Keras model
    qat_model: object
    raw: dict  # mode -> converter output
    shipped: dict  # mode -> the file users get (dedup and metadata)


@pytest.fixture(scope="session")
def tiny_converted(tiny_qat_run) -> TinyConverted:
    from rt_keras.backend import keras
    from rt_keras.core import run_config
    from rt_keras.core.modes import MODES
    from rt_keras.export.calibration import representative_audio
    from rt_keras.export.keras_to_tflite import audio_signature, convert
    from rt_keras.export.package import package
    from rt_keras.runs.qat import load_qat_model

    config = run_config.load_resolved(tiny_qat_run / "config.yaml")
    model = keras.models.load_model(tiny_qat_run / "model.keras")
    qat_model = load_qat_model(tiny_qat_run)
    data = representative_audio(config, config.qat.calibration_utterances)
    raw = {mode: convert(qat_model if mode == "qat-int8" else model, mode, audio_signature(),
                         data if "int8" in mode else None) for mode in MODES}
    return TinyConverted(tiny_qat_run, config, model, qat_model, raw,
                         {mode: package(raw[mode], config, mode, vocabulary=DIGITS)[0] for mode in MODES})


@pytest.fixture(scope="session")
def real_audio(tiny_converted):
    """Three utterances of the held-out FSDD speaker, as the model takes them."""
    from rt_keras.core.contracts import pcm_to_float
    from rt_keras.data.storage import data_directory, load_split

    split = load_split(data_directory(tiny_converted.config), "test_real")
    return [pcm_to_float(split.audio[i][None]) for i in range(3)]
