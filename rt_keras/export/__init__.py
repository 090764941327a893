"""Keras -> .tflite: conversion in every mode (``keras_to_tflite``), calibration audio
(``calibration``), metadata and the dedup pass around it (``package``), and the shipped
file on the host (``transcribe``). The file-level passes are in ``converters``."""
