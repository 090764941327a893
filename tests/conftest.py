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
from tests.helpers import PHRASES, config_for, write_manifest


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


@pytest.fixture(scope="session")
def tiny_qat4_run(tiny_qat_run):
    """``tiny_qat_run`` with a 4-bit quantisation-aware fine-tuning too (``RUN_DIR/qat4``)."""
    from rt_keras.runs.qat import finetune

    finetune(tiny_qat_run, progress=False, weight_bits=4)
    return tiny_qat_run


@dataclasses.dataclass
class TinyConverted:
    """The tiny run with every conversion mode done once."""
    run_dir: pathlib.Path
    config: object  # its RunConfig
    model: object  # the float Keras model
    qat_model: object
    raw: dict  # mode -> converter output
    shipped: dict  # mode -> the file users get (dedup and metadata)
    qat4_model: object  # the 4-bit QAT model (qat-int4 is converted from its fake-quantised weights)


@pytest.fixture(scope="session")
def tiny_converted(tiny_qat4_run) -> TinyConverted:
    from rt_keras.backend import keras
    from rt_keras.core import run_config
    from rt_keras.core.modes import MODES
    from rt_keras.export.calibration import representative_audio
    from rt_keras.export.keras_to_tflite import audio_signature, convert
    from rt_keras.export.package import package
    from rt_keras.model.quantize import fake_quantized_model
    from rt_keras.runs.qat import load_qat_model

    run_dir = tiny_qat4_run
    config = run_config.load_resolved(run_dir / "config.yaml")
    model = keras.models.load_model(run_dir / "model.keras")
    qat_model, qat4_model = load_qat_model(run_dir), load_qat_model(run_dir, 4)
    sources = {"qat-int8": qat_model,
               "qat-int4": fake_quantized_model(qat4_model, keras.models.load_model(run_dir / "model.keras"))}
    data = representative_audio(config, config.qat.calibration_utterances)
    raw = {mode: convert(sources.get(mode, model), mode, audio_signature(), data if "int8" in mode else None)
           for mode in MODES}
    return TinyConverted(run_dir, config, model, qat_model, raw,
                         {mode: package(raw[mode], config, mode, vocabulary=DIGITS)[0] for mode in MODES}, qat4_model)


@pytest.fixture(scope="session")
def real_audio(tiny_converted):
    """Three utterances of the held-out FSDD speaker, as the model takes them."""
    from rt_keras.core.contracts import pcm_to_float
    from rt_keras.data.storage import data_directory, load_split

    split = load_split(data_directory(tiny_converted.config), "test_real")
    return [pcm_to_float(split.audio[i][None]) for i in range(3)]


# -- the user's own data: phrases spoken by espeak-ng voices, as WAVs and a manifest ----------
@pytest.fixture(scope="session")
def spoken(tmp_path_factory):
    """Six espeak-ng voices saying five phrases, as WAVs and a JSON Lines manifest."""
    import soundfile

    from rt_keras.data import espeak_voices

    directory = tmp_path_factory.mktemp("commands")
    voices = espeak_voices.sample_voices(6, held_out=False, seed=5)
    rows = []
    for v, (voice, clips) in enumerate(zip(voices, espeak_voices.synthesize_clips(voices, PHRASES))):
        for p, clip in enumerate(clips):
            path = directory / "audio" / f"{v}-{p}.wav"
            path.parent.mkdir(exist_ok=True)
            soundfile.write(path, np.concatenate([np.zeros(1600, np.int16), clip, np.zeros(1600, np.int16)]), 16000)
            rows.append({"audio": f"audio/{v}-{p}.wav", "text": PHRASES[p].upper() + "!", "speaker": f"voice{v}"})
    return directory, rows


@pytest.fixture(scope="session")
def char_data(spoken, tmp_path_factory):
    directory, rows = spoken
    (directory / "audio" / "broken.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEfmt ")
    broken_row = {"audio": "audio/broken.wav", "text": "stop", "speaker": "voice0"}
    train = write_manifest(directory / "train.jsonl", rows + [broken_row])
    config = config_for(train, tmp_path_factory.mktemp("cache"), "data.vocabulary=char")
    from rt_keras.data.materialise import materialise

    return config, materialise(config, progress=False)


