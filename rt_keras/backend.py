"""The one place that imports TensorFlow and Keras for the package.

tfmot's quantisation-aware training only supports Keras 2, so everything is built
with ``tf_keras``. ``TF_USE_LEGACY_KERAS`` must be set before TensorFlow is imported
anywhere, otherwise ``tf.keras`` (used inside the TFLite converter and tfmot) would be
Keras 3 and would not recognise our models.
"""

import os

# sets TF_USE_LEGACY_KERAS before TensorFlow is imported
from rt_keras import _environment  # noqa: F401


def _import_quietly():
    """Import TensorFlow with native stderr silenced: on a machine without a GPU its C++
    runtime prints CUDA probing messages before its own log level applies. Python
    exceptions are still raised (and printed) normally. RT_KERAS_VERBOSE=1 shows all."""
    if os.environ.get("RT_KERAS_VERBOSE") == "1":
        import tensorflow

        return tensorflow
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import tensorflow

        tensorflow.config.list_physical_devices()  # the CUDA probe happens here
        return tensorflow
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


tf = _import_quietly()
import tf_keras as keras  # noqa: E402

__all__ = ["tf", "keras"]
