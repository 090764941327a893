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


@pytest.fixture(scope="session")
def tiny_run(tiny_config, tmp_path_factory):
    """A trained tiny run directory (2 epochs) shared by the conversion and footprint tests."""
    import copy

    from rt_keras.train import train

    config = copy.deepcopy(tiny_config)
    config.train.epochs = 2
    run_dir = tmp_path_factory.mktemp("tiny-run")
    train(config, run_dir, progress=False)
    return run_dir


@pytest.fixture(scope="session")
def tiny_qat_run(tiny_run):
    """``tiny_run`` with its quantisation-aware fine-tuning done (``RUN_DIR/qat``)."""
    from rt_keras.qat import finetune

    finetune(tiny_run, progress=False)
    return tiny_run


@pytest.fixture(scope="session")
def tiny_converted(tiny_qat_run):
    """(run dir, run config, float model, QAT model, {mode: (converter output, shipped
    file with dedup and metadata)}) of the tiny run, every mode converted once."""
    from rt_keras.export import package, representative_audio
    from rt_keras.keras_to_tflite import MODES, audio_signature, convert
    from rt_keras import run_config
    from rt_keras.backend import keras
    from rt_keras.qat import load_qat_model

    config = run_config.load_resolved(tiny_qat_run / "config.yaml")
    model = keras.models.load_model(tiny_qat_run / "model.keras")
    qat_model = load_qat_model(tiny_qat_run)
    data = representative_audio(config, config.qat.calibration_utterances)
    converted = {}
    for mode in MODES:
        raw = convert(qat_model if mode == "qat-int8" else model, mode, audio_signature(),
                      data if "int8" in mode else None)
        converted[mode] = raw, package(raw, config, mode)[0]
    return tiny_qat_run, config, model, qat_model, converted
