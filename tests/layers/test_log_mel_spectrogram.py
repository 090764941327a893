import librosa
import numpy as np
import pytest

from rt_keras.data.audio import read_wav
from rt_keras.layers import LogMelSpectrogram, SpecAugment
from tests.helpers import FSDD, requires_fsdd
from tests.layer_harness import check_layer


@requires_fsdd
@pytest.mark.parametrize("name", ["7_jackson_32.wav", "0_theo_4.wav", "3_george_17.wav"])
def test_log_mel_matches_librosa_on_real_speech(name):
    """Stated tolerance: 1e-3 absolute on natural-log mel energies (float32 FFT vs float64)."""
    audio = read_wav(f"{FSDD}/recordings/{name}")
    layer = LogMelSpectrogram(num_mel_bins=40)
    layer.build((None, None))
    ours = layer.log_mel(audio[None]).numpy()[0]
    reference = np.log(librosa.feature.melspectrogram(
        y=audio, sr=16000, n_fft=512, hop_length=160, center=False, n_mels=40, fmin=20.0, fmax=7600.0,
        power=2.0).T + 1e-6)
    assert ours.shape == reference.shape
    np.testing.assert_allclose(ours, reference, atol=1e-3)


def test_log_mel_layer_harness_and_normalisation(tmp_path):
    rng = np.random.default_rng(0)
    audio = (0.1 * rng.normal(size=(2, 4000))).astype(np.float32)
    layer, (features,) = check_layer(lambda: LogMelSpectrogram(num_mel_bins=16), [audio.shape], tmp_path,
                                     expected_weights=2, expected_trainable=0,  # mean and std, set from data
                                     tflite_atol=1e-3, input_fn=lambda _: [audio], randomize_weights=False)
    assert features.shape == (2, 1 + (4000 - 512) // 160, 16)
    mean, std = rng.normal(size=16), rng.uniform(0.5, 2, size=16)
    layer.set_statistics(mean, std)
    np.testing.assert_allclose(layer(audio).numpy(), (features - mean) / std, rtol=1e-4, atol=1e-4)


def test_leading_samples_are_zeros_before_the_audio(tmp_path):
    """The layer with ``leading_samples`` is the plain layer on the audio with that many zeros in
    front (through Keras saving and the LiteRT conversion too); the first frames are the silence's."""
    rng = np.random.default_rng(1)
    audio = (0.1 * rng.normal(size=(2, 4000))).astype(np.float32)
    plain = LogMelSpectrogram(num_mel_bins=16)
    expected = plain(np.pad(audio, [(0, 0), (1600, 0)])).numpy()
    layer, (features,) = check_layer(lambda: LogMelSpectrogram(num_mel_bins=16, leading_samples=1600), [audio.shape],
                                     tmp_path, expected_weights=2, expected_trainable=0, tflite_atol=1e-3,
                                     input_fn=lambda _: [audio], randomize_weights=False)
    assert layer.get_config()["leading_samples"] == 1600
    assert features.shape == (2, 1 + (4000 + 1600 - 512) // 160, 16)
    np.testing.assert_allclose(features, expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(features[:, :7], np.log(1e-6), atol=1e-3)  # frames 0-6 end before sample 1600


def test_log_mel_rejects_frame_length_without_builtin_fft():
    with pytest.raises(ValueError, match="frame_length=400: must be a power of two"):
        LogMelSpectrogram(frame_length=400)


def test_spec_augment_masks_only_in_training(tmp_path):
    features = np.ones((4, 50, 16), np.float32)
    check_layer(SpecAugment, [features.shape], tmp_path, expected_weights=0, input_fn=lambda _: [features])
    layer = SpecAugment(time_masks=2, time_mask_frames=10, frequency_masks=2, frequency_mask_bins=4)
    np.testing.assert_array_equal(layer(features, training=False).numpy(), features)
    masked = layer(features, training=True).numpy()
    assert 0 < np.mean(masked == 0) < 0.6
    # Masks are whole frames and whole bins: a zeroed frame is zero in every bin.
    zero_frames = np.all(masked == 0, axis=2)
    zero_bins = np.all(masked == 0, axis=1)
    np.testing.assert_array_equal(masked == 0, zero_frames[:, :, None] | zero_bins[:, None, :])
