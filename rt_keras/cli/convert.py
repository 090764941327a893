"""`rt-keras convert`: a run -> .tflite (builtin ops, shared tensors stored once, metadata)."""

from __future__ import annotations

import json
import sys

from rt_keras.core.modes import MODES, STREAMING_MODES


def register(subparsers) -> None:
    p = subparsers.add_parser("convert", help="convert a run to .tflite (builtin ops, deduplicated, with metadata)",
                       description="Convert RUN_DIR's model to TFLite with builtin ops only, store every "
                                   "shared tensor once (dedup pass), and add metadata (sample rate, "
                                   "vocabulary). Input: raw mono float32 PCM at 16 kHz, shape [1, samples] "
                                   "(any length unless --samples); output: per-frame log-probabilities.")
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument("--mode", choices=MODES, default="float32",
                   help="float32; float16 weights; dynamic (int8 weights, float activations); int8 (full-integer "
                        "post-training, calibrated on training audio); qat-int8 (from `rt-keras qat RUN_DIR`); "
                        "int4 (4-bit weights, float activations quantised on the fly, ai-edge-quantizer); "
                        "int4-shared (the shared W_g in 4 bits, the other matrices in 8); qat-int4 (from "
                        "`rt-keras qat RUN_DIR --weight-bits 4`: the 4-bit weights it trained, stored exactly)")
    p.add_argument("--out", required=True, metavar="FILE.tflite")
    p.add_argument("--materialize", action="store_true",
                   help="ship each layer's full matrix W_g + A_l B_l + D_l instead (the comparison without sharing)")
    p.add_argument("--samples", type=int, metavar="N", help="fixed input length in samples (default: any length)")
    p.add_argument("--int8-attention", action="store_true",
                   help="int8 modes: quantise attention and the LayerNorms too, as QAT simulated them (by default "
                        "they stay float: their int8 kernels are LiteRT's slow reference ones; docs/results.md "
                        "'Where int8 time goes')")
    p.add_argument("--short-names", action="store_true",
                   help="name tensors t<index> instead of the converter's long Keras paths (smaller file); the "
                        "weight roles footprint needs are kept in the metadata")
    p.add_argument("--streaming", action="store_true",
                   help="a streaming model of a chunked run (encoder.chunk_frames > 0): one chunk of audio and "
                        "explicit state tensors in, the chunk's log-probabilities and the new state out; the "
                        f"state layout is in the metadata (modes {', '.join(STREAMING_MODES)})")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=run)


def run(args) -> int:
    from rt_keras.export.keras_to_tflite import FLOAT_LAYERS, ConversionError
    from rt_keras.runs.convert import export_run, export_streaming_run

    try:
        if args.streaming:
            if args.materialize or args.samples or args.int8_attention:
                raise ValueError("--streaming takes its chunk length from the run's encoder.chunk_frames; "
                                 "it cannot be combined with --materialize, --samples or --int8-attention")
            report = export_streaming_run(args.run_dir, args.mode, args.out, short_names=args.short_names)
        else:
            report = export_run(args.run_dir, args.mode, args.out, materialize=args.materialize,
                                num_samples=args.samples, float_layers=FLOAT_LAYERS if args.int8_attention else None,
                                short_names=args.short_names)
    except (ConversionError, ValueError) as error:
        print(f"rt-keras convert: {error}", file=sys.stderr)
        return 2
    print(json.dumps(report, indent=2) if args.json else format_convert(report, args.out))
    return 0


def format_convert(report: dict, out) -> str:
    shared = [c for c in report["dedup"]["shared_constants"] if c["bytes"] >= 1024]
    lines = [f"{out}: {report['bytes']:,} bytes ({report['mode']}{', materialized' if report['materialized'] else ''}; "
             f"converter output {report['bytes_converted']:,} bytes, dedup pass saved {report['bytes_saved']:,}, "
             f"metadata {report['bytes_metadata']:,} bytes)",
             f"  {len(shared)} constants of >= 1 KiB are read by more than one operator"]
    lines += [f"  {c['bytes']:>10,} bytes read by {c['readers']} operators: {c['tensor']}" for c in shared[:12]]
    return "\n".join(lines)
