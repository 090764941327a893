"""Run directories: their layout (``run_dir.RunDir`` owns every file name), one module
per step (``train``, ``evaluate``, ``qat``, ``convert``, ``compress``), and the
``pipeline`` that chains them."""
