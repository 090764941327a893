"""The Keras graphs: the residual weight-shared encoder (``encoder``), the speech model
around it (``asr``), its CTC loss (``ctc``), parameter accounting (``params``),
compression of an unshared model (``compress``), the quantisation-aware wrappers
(``quantize``), the streaming step (``streaming``) and atomic saving (``saving``)."""

from rt_keras.model.asr import build_asr_model

__all__ = ["build_asr_model"]
