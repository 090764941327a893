"""Environment that must be set before TensorFlow is imported anywhere: tfmot supports
only Keras 2, so ``tf.keras`` (used inside the TFLite converter and tfmot) must be
tf_keras. Importing ``rt_keras`` sets it without importing TensorFlow itself, so the
CLI's help and argument errors stay fast."""

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

if os.environ["TF_USE_LEGACY_KERAS"] not in ("1", "true", "True"):
    raise ImportError(
        "rt_keras needs TF_USE_LEGACY_KERAS=1 (tfmot supports only Keras 2), "
        f"but the environment sets TF_USE_LEGACY_KERAS={os.environ['TF_USE_LEGACY_KERAS']!r}. "
        "Unset it or set it to 1."
    )
