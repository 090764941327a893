"""Log-mel features computed inside the model, so the .tflite takes raw PCM."""

import numpy as np

from rt_keras.backend import keras, tf


def mel_filterbank(sample_rate, fft_length, num_mel_bins, lower_hz, upper_hz) -> np.ndarray:
    """[fft_length // 2 + 1, num_mel_bins] Slaney mel filters, exactly librosa's defaults."""
    import librosa

    return librosa.filters.mel(sr=sample_rate, n_fft=fft_length, n_mels=num_mel_bins,
                               fmin=lower_hz, fmax=upper_hz).T.astype(np.float32)


@keras.utils.register_keras_serializable(package="rt_keras")
class LogMelSpectrogram(keras.layers.Layer):
    """[B, N] PCM at ``sample_rate`` -> [B, frames, num_mel_bins] normalised log-mel.

    ``log(mel(|STFT|^2) + log_floor)`` with a periodic Hann window of ``frame_length``
    (a power of two: TFLite's builtin RFFT2D), no centring/padding, then a per-bin affine
    normalisation whose mean and std are non-trainable weights set from training data
    (``set_statistics``). Matches librosa's ``melspectrogram(center=False)``.
    ``leading_samples`` zeros go in front of the audio first (the whole-utterance model's
    leading silence; the statistics are of the audio alone).
    """

    def __init__(self, sample_rate=16000, frame_length=512, frame_step=160, num_mel_bins=40,
                 lower_hz=20.0, upper_hz=7600.0, log_floor=1e-6, leading_samples=0, **kwargs):
        super().__init__(**kwargs)
        if frame_length & (frame_length - 1):
            raise ValueError(f"frame_length={frame_length}: must be a power of two "
                             "(TFLite's builtin FFT), e.g. 256, 512")
        self.sample_rate = int(sample_rate)
        self.frame_length = int(frame_length)
        self.frame_step = int(frame_step)
        self.num_mel_bins = int(num_mel_bins)
        self.lower_hz = float(lower_hz)
        self.upper_hz = float(upper_hz)
        self.log_floor = float(log_floor)
        self.leading_samples = int(leading_samples)

    def build(self, input_shape):
        self._mel = tf.constant(mel_filterbank(self.sample_rate, self.frame_length, self.num_mel_bins,
                                               self.lower_hz, self.upper_hz))
        self._window = tf.constant(np.hanning(self.frame_length + 1)[:-1].astype(np.float32))
        self.mean = self.add_weight(name="mean", shape=(self.num_mel_bins,), initializer="zeros", trainable=False)
        self.std = self.add_weight(name="std", shape=(self.num_mel_bins,), initializer="ones", trainable=False)
        super().build(input_shape)

    def log_mel(self, audio):
        """Un-normalised log-mel features."""
        frames = tf.signal.frame(audio, self.frame_length, self.frame_step) * self._window
        spectrum = tf.abs(tf.signal.rfft(frames, [self.frame_length]))
        mel = tf.tensordot(tf.square(spectrum), self._mel, 1)
        return tf.math.log(mel + self.log_floor)

    def call(self, audio):
        if self.leading_samples:
            audio = tf.pad(audio, [[0, 0], [self.leading_samples, 0]])
        return (self.log_mel(audio) - self.mean) / self.std

    def set_statistics(self, mean, std):
        self.mean.assign(np.asarray(mean, np.float32))
        self.std.assign(np.maximum(np.asarray(std, np.float32), 1e-3))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], None, self.num_mel_bins)

    def get_config(self):
        config = super().get_config()
        config.update(sample_rate=self.sample_rate, frame_length=self.frame_length,
                      frame_step=self.frame_step, num_mel_bins=self.num_mel_bins,
                      lower_hz=self.lower_hz, upper_hz=self.upper_hz, log_floor=self.log_floor,
                      leading_samples=self.leading_samples)
        return config
