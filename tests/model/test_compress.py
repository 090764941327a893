import numpy as np
import pytest

from rt_keras.core.encoder_config import preset
from rt_keras.core.vocabulary import DIGITS
from rt_keras.model.compress import compress_unshared, low_rank_factors
from rt_keras.model.encoder import build_encoder

NUM_FEATURES = 16


@pytest.fixture(scope="module")
def trained_like_baseline():
    """An unshared tiny encoder with random (non-initial) weights everywhere."""
    model = build_encoder(preset("tiny", dropout=0.0), NUM_FEATURES)
    rng = np.random.default_rng(0)
    model.set_weights([rng.normal(scale=0.2, size=w.shape).astype(np.float32) for w in model.get_weights()])
    return model


def _compress(source, **changes):
    config = preset("tiny", dropout=0.0, group_size=2, **changes)
    target = build_encoder(config, NUM_FEATURES)
    return target, compress_unshared(source, target, config)


def test_full_rank_reconstruction_is_exact(trained_like_baseline):
    target, report = _compress(trained_like_baseline, rank=32, diagonal=True)  # min(d_in, d_out) = 32
    assert report["mean_relative_error"] < 1e-5
    x = np.random.default_rng(1).normal(size=(2, 20, NUM_FEATURES)).astype(np.float32)
    np.testing.assert_allclose(target(x).numpy(), trained_like_baseline(x).numpy(), rtol=1e-4, atol=1e-4)


def test_error_falls_as_rank_grows(trained_like_baseline):
    errors = [_compress(trained_like_baseline, rank=r, diagonal=True)[1]["mean_relative_error"]
              for r in (0, 2, 8, 16)]
    assert all(a > b for a, b in zip(errors, errors[1:])), errors
    assert 0.3 < errors[0] < 1.0  # mean of two independent random matrices: ~sqrt(1/2) off


def test_low_rank_factors_are_the_truncated_svd():
    rng = np.random.default_rng(0)
    m = rng.normal(size=(12, 7))
    a, b = low_rank_factors(m, 3)
    assert a.shape == (12, 3) and b.shape == (3, 7)
    s = np.linalg.svd(m, compute_uv=False)
    # Eckart-Young: the error of the best rank-3 approximation is the tail of the spectrum.
    np.testing.assert_allclose(np.linalg.norm(m - a @ b), np.sqrt(np.sum(s[3:] ** 2)), rtol=1e-5)


def test_compressed_model_fine_tunes_with_fit(trained_like_baseline):
    from rt_keras.backend import keras

    target, _ = _compress(trained_like_baseline, rank=2, diagonal=True)
    rng = np.random.default_rng(2)
    x = rng.normal(size=(4, 20, NUM_FEATURES)).astype(np.float32)
    y = trained_like_baseline(x).numpy()
    target.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    history = target.fit(x, y, epochs=5, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_rejects_a_source_that_is_already_shared():
    shared = build_encoder(preset("tiny", group_size=2), NUM_FEATURES)
    config = preset("tiny", group_size=2, rank=2, diagonal=True)
    with pytest.raises(ValueError, match="not an unshared baseline"):
        compress_unshared(shared, build_encoder(config, NUM_FEATURES), config)


def test_compress_cli_on_a_run_directory(tmp_path):
    import json
    import subprocess
    import sys

    from rt_keras.backend import keras
    from rt_keras.core import run_config
    from rt_keras.model.asr import build_asr_model
    from rt_keras.model.saving import save_model

    config = run_config.from_dict({"name": "base", "encoder": {"preset": "tiny", "dropout": 0.0},
                                   "frontend": {"num_mel_bins": 16}})
    model = build_asr_model(config, len(DIGITS))
    rng = np.random.default_rng(0)
    model.set_weights([rng.normal(scale=0.2, size=w.shape).astype(np.float32) for w in model.get_weights()])
    source = tmp_path / "base"
    run_config.save(config, source / "config.yaml")
    save_model(model, source / "model.keras")

    out = tmp_path / "rt"
    run = subprocess.run([sys.executable, "-m", "rt_keras.cli", "compress", str(source), "--out", str(out),
                          "-K", "2", "-R", "32", "--json"], capture_output=True, text=True, check=True)
    report = json.loads(run.stdout)
    assert report["mean_relative_error"] < 1e-5  # full rank: exact
    compressed = keras.models.load_model(out / "model.keras")
    audio = (0.1 * rng.normal(size=(1, 6000))).astype(np.float32)
    np.testing.assert_allclose(compressed(audio).numpy(), model(audio).numpy(), atol=1e-3)
    assert run_config.load_resolved(out / "config.yaml").encoder.group_size == 2

    again = subprocess.run([sys.executable, "-m", "rt_keras.cli", "compress", str(out), "--out",
                            str(tmp_path / "x"), "-K", "2", "-R", "2"], capture_output=True, text=True)
    assert again.returncode == 2 and "not an unshared baseline" in again.stderr
