"""Custom Keras layers of rt-keras, one public layer per module, all registered as
serialisable under the package name "rt_keras" (``load_model`` needs no custom_objects).

The shared full-rank matrix and the low-rank factors are plain ``Dense`` layers: the
shared one is a single layer instance called by every layer of its group, which is how
Keras, tfmot and the TFLite converter all keep it as one weight.
"""

from rt_keras.layers.bias_add import BiasAdd
from rt_keras.layers.diagonal_scale import DiagonalScale
from rt_keras.layers.gated_linear_unit import GatedLinearUnit
from rt_keras.layers.last_frames import LastFrames
from rt_keras.layers.log_mel_spectrogram import LogMelSpectrogram
from rt_keras.layers.scaled_dot_product_attention import ScaledDotProductAttention
from rt_keras.layers.sinusoidal_positional_encoding import SinusoidalPositionalEncoding
from rt_keras.layers.spec_augment import SpecAugment
from rt_keras.layers.streaming_key_mask import StreamingKeyMask

__all__ = ["BiasAdd", "DiagonalScale", "GatedLinearUnit", "LastFrames", "LogMelSpectrogram",
           "ScaledDotProductAttention", "SinusoidalPositionalEncoding", "SpecAugment", "StreamingKeyMask"]
