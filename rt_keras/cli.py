"""The ``rt-keras`` command line: one entry point, one subcommand per pipeline step."""

from __future__ import annotations

import argparse
import json
import logging
import sys

from rt_keras.config import MATRIX_NAMES, PRESETS, ConfigError
from rt_keras.data.splits import TEST_SPLITS


def _int_at_least(minimum: int, maximum: int | None = None):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < minimum or (maximum is not None and value > maximum):
            allowed = f"{minimum}..{maximum}" if maximum is not None else f">= {minimum}"
            raise argparse.ArgumentTypeError(f"expected an integer {allowed}, got {value}")
        return value
    return parse


MAX_AUDIO_SECONDS = 600.0


def _audio_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not 0 < value <= MAX_AUDIO_SECONDS:  # also refuses nan
        raise argparse.ArgumentTypeError(f"expected seconds in (0, {MAX_AUDIO_SECONDS:g}], got {text}")
    return value


def _rank_for(text: str) -> tuple[str, int]:
    name, sep, value = text.partition("=")
    if not sep or name not in MATRIX_NAMES or not value.isdigit():
        raise argparse.ArgumentTypeError(
            f"expected MATRIX=RANK with MATRIX one of {', '.join(MATRIX_NAMES)}, got {text!r}")
    return name, int(value)


def add_encoder_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("encoder")
    group.add_argument("--preset", choices=sorted(PRESETS), default="small",
                       help="encoder size to start from (default: %(default)s; 'paper' is the "
                            "18-layer, d_model 512 encoder of Wang & Li)")
    group.add_argument("--num-layers", type=int)
    group.add_argument("--d-model", type=int)
    group.add_argument("--num-heads", type=int)
    group.add_argument("--ffn-dim", type=int)
    group.add_argument("--group-size", "-K", type=int, help="layers sharing one full-rank matrix (K)")
    group.add_argument("--sharing", choices=["adjacent", "cyclic"])
    group.add_argument("--rank", "-R", type=int, help="rank of every per-layer low-rank term (R)")
    group.add_argument("--rank-for", type=_rank_for, action="append", metavar="MATRIX=R",
                       help=f"rank of one matrix type, repeatable ({', '.join(MATRIX_NAMES)})")
    group.add_argument("--diagonal", action=argparse.BooleanOptionalAction,
                       help="per-layer diagonal term (default: on when R>0)")
    group.add_argument("--diagonal-rectangular", action=argparse.BooleanOptionalAction,
                       help="also give the FFN matrices a diagonal on their first min(d_in, d_out) "
                            "features (default: on)")
    group.add_argument("--bias", dest="use_bias", action=argparse.BooleanOptionalAction,
                       help="biases in the projections (default: on)")
    group.add_argument("--conv-module", action=argparse.BooleanOptionalAction,
                       help="Conformer convolution module in every block")


def encoder_config_from_args(args):
    from rt_keras.config import preset

    changes = {name: getattr(args, name) for name in (
        "num_layers", "d_model", "num_heads", "ffn_dim", "group_size", "sharing", "rank",
        "diagonal", "diagonal_rectangular", "use_bias", "conv_module") if getattr(args, name) is not None}
    if args.rank_for:
        ranks = {name: changes.get("rank", 0) for name in MATRIX_NAMES}
        ranks.update(dict(args.rank_for))
        changes["rank"] = ranks
    if "diagonal" not in changes:
        rank = changes.get("rank", 0)
        changes["diagonal"] = any(rank.values()) if isinstance(rank, dict) else rank > 0
    return preset(args.preset, **changes)


def _format_accounting(result: dict) -> str:
    cfg = result["config"]
    rank = cfg["rank"] if not isinstance(cfg["rank"], dict) else ", ".join(
        f"{k}={v}" for k, v in cfg["rank"].items())
    lines = [
        f"Encoder: {cfg['num_layers']} layers, d_model {cfg['d_model']}, FFN {cfg['ffn_dim']}, "
        f"{cfg['num_heads']} heads; K={cfg['group_size']} ({cfg['sharing']}), R={rank}, "
        f"diagonal {'on' if cfg['diagonal'] else 'off'}, biases {'on' if cfg['use_bias'] else 'off'}",
        "",
        f"{'role':<12}{'parameters':>14}{'of encoder':>12}",
    ]
    total = result["encoder_params"]
    for role, count in result["breakdown"].items():
        lines.append(f"{role:<12}{count:>14,}{100 * count / total:>11.1f}%")
    lines += [
        f"{'encoder':<12}{total:>14,}",
        f"{'baseline':<12}{result['baseline_encoder_params']:>14,}   (unshared, same size)",
        f"fraction of baseline: {100 * result['fraction']:.2f}%",
        "counted separately: " + ", ".join(f"{k} {v:,}" for k, v in result["separate"].items()),
    ]
    return "\n".join(lines)


def cmd_params(args) -> int:
    from rt_keras.params import accounting

    result = accounting(encoder_config_from_args(args), num_features=args.num_features)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(_format_accounting(result))
    return 0


def _load_run_config(args):
    from rt_keras import run_config

    return run_config.load(args.config, _overrides(args))


def _overrides(args) -> list[str]:
    """--set items, after --split-by (an explicit --set data.split_by wins)."""
    return ([f"data.split_by={args.split_by}"] if getattr(args, "split_by", None) else []) + args.set


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, metavar="FILE",
                        help="YAML run config (configs/rt.yaml, baseline.yaml, albert.yaml, tiny.yaml; "
                             "configs/commands.yaml trains on manifests: README \"Your own data\")")
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.FIELD=VALUE",
                        help="override any config value, repeatable (e.g. --set train.epochs=3 "
                             "--set data.fsdd_dir=/data/fsdd); values are parsed as YAML")
    parser.add_argument("--split-by", choices=["speaker", "utterance"],
                        help="with data.source=manifest: carve the validation/test splits that have no manifest "
                             "from the train manifest keeping each speaker in one split (default), or by utterance")


def cmd_data(args) -> int:
    from rt_keras.data.dataset import materialise, read_manifest

    config = _load_run_config(args)
    directory = materialise(config, progress=not args.json, force=args.force)
    data = {"directory": str(directory), **read_manifest(directory)}
    print(json.dumps(data, indent=2) if args.json else _format_data(data))
    return 0


def _format_data(data: dict) -> str:
    lines = [f"data in {data['directory']}"]
    for name, split in data["splits"].items():
        lines.append(f"  {name:<20}{split['utterances']:>6} utterances {60 * split['hours']:>7.1f} min "
                     f"{split['sources']:>5} speakers/voices")
        if split.get("unspellable"):
            lines.append(f"  {'':<20}{split['unspellable']:>6} of them use tokens outside the vocabulary")
    tokens = data["vocabulary"]
    lines.append(f"  vocabulary: {data.get('vocabulary_kind', 'word')}, {len(tokens) - 1} tokens and the blank "
                 f"({' '.join(tokens[1:13])}{' ...' if len(tokens) > 13 else ''})")
    if data["skipped"]["count"]:
        lines.append(f"  skipped {data['skipped']['count']} recordings or rows (listed in manifest.json, "
                     f"e.g. {data['skipped']['files'][0]})")
    return "\n".join(lines)


def cmd_train(args) -> int:
    import pathlib

    from rt_keras.train import train

    config = _load_run_config(args)
    if args.strategy:
        config.train.strategy = args.strategy
    if args.init_from:
        config.train.init_from = str(pathlib.Path(args.init_from).absolute())
    print(_format_train(train(config, args.out, force=args.force), args.out))
    return 0


def _format_train(metrics: dict, run_dir) -> str:
    return (f"run directory: {run_dir}  (model.keras, metrics.json, checkpoints/, tensorboard/)\n"
            f"validation WER {100 * metrics['validation_wer']:.2f}%")


def _format_evaluation(results: dict) -> str:
    from rt_keras.wer_stats import format_wer

    width = max([34] + [len(voice) + 4 for result in results.values() for voice in result["by_voice"]])
    lines = [f"{'split / voice':<{width}}{'utterances':>11}{'words':>8}   {'WER [95% CI]':<23}   characters   "
             "CER [95% CI]"]
    for name, result in results.items():
        cer = result["cer"]
        lines.append(f"{name:<{width}}{result['utterances']:>11}{result['words']:>8}   {format_wer(result):<23}   "
                     f"{cer['characters']:>10}   {format_wer({'wer': cer['cer'], 'ci95': cer['ci95']})}")
        if len(result["by_voice"]) > 1 or name.startswith("test_real"):
            for voice, sub in result["by_voice"].items():
                lines.append(f"  {voice:<{width - 2}}{sub['utterances']:>11}{sub['words']:>8}   {format_wer(sub)}")
    return "\n".join(lines)


def cmd_evaluate(args) -> int:
    from converters.flatbuffer import NotATFLiteModel
    from converters.runner import ModelLoadError
    from rt_keras.runs import evaluate_run

    try:
        results, _ = evaluate_run(args.run_dir, args.splits, tflite=args.tflite)
    except (NotATFLiteModel, ModelLoadError) as error:
        print(f"rt-keras evaluate: {error}", file=sys.stderr)
        return 2
    print(json.dumps(results, indent=2) if args.json else _format_evaluation(results))
    if args.against:  # after the JSON on stdout, the comparison goes to stderr
        print(_format_comparison(results, args.against), file=sys.stderr if args.json else sys.stdout)
    return 0


def _format_comparison(results: dict, other_path) -> str:
    """Paired bootstrap of this evaluation against another one of the same splits."""
    import pathlib

    from rt_keras.wer_stats import paired_bootstrap

    other_name = str(other_path)
    other = json.loads(pathlib.Path(other_path).read_text())
    lines = [f"\nthis model (A) vs {other_name} (B), paired bootstrap over the same utterances:",
             f"{'split':<22}{'WER A - B':>11}   95% CI            verdict"]
    for name, result in results.items():
        if name not in other or other[name].get("utterance_words") != result["utterance_words"]:
            lines.append(f"{name:<22}   not comparable ({other_name} has no evaluation of the same utterances)")
            continue
        pair = paired_bootstrap(result["utterance_errors"], other[name]["utterance_errors"], result["utterance_words"])
        lines.append(f"{name:<22}{100 * pair['difference']:>+10.2f}   [{100 * pair['ci95'][0]:+5.1f}, "
                     f"{100 * pair['ci95'][1]:+5.1f}]   {pair['verdict']}")
    return "\n".join(lines)


def cmd_compress(args) -> int:
    """Unshared trained run -> residual form (mean + diagonal + truncated SVD) in a new run dir."""
    from rt_keras.compress import compress_run

    diagonal = args.rank > 0 if args.diagonal is None else args.diagonal
    try:
        report = compress_run(args.run_dir, args.out, group_size=args.group_size, rank=args.rank, diagonal=diagonal)
    except ValueError as error:
        print(f"rt-keras compress: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"{args.run_dir} -> {args.out}: K={args.group_size}, R={args.rank}, diagonal {diagonal}")
    for matrix, error in report["mean_relative_error_by_matrix"].items():
        print(f"  {matrix:<8} mean relative reconstruction error {error:.4f}")
    print(f"fine-tune it: rt-keras train --config CONFIG --init-from {args.out} --out NEW_RUN_DIR")
    return 0


def cmd_qat(args) -> int:
    from rt_keras.qat import finetune
    from rt_keras.runs import update_qat_settings

    if args.set:  # qat settings are stored in the run's resolved config
        update_qat_settings(args.run_dir, args.set)
    print(_format_qat(finetune(args.run_dir, force=args.force), args.run_dir))
    return 0


def _format_qat(metrics: dict, run_dir) -> str:
    return (f"QAT run: {run_dir}/qat  (model.weights.h5, metrics.json, checkpoints/, history.csv)\n"
            f"validation WER {100 * metrics['validation_wer']:.2f}% with fake 8-bit quantisation "
            f"(float model: {100 * (metrics['float_validation_wer'] or float('nan')):.2f}%)")


def cmd_convert(args) -> int:
    from rt_keras.export import export_run, export_streaming_run
    from rt_keras.keras_to_tflite import FLOAT_LAYERS, ConversionError

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
    print(json.dumps(report, indent=2) if args.json else _format_convert(report, args.out))
    return 0


def _format_convert(report: dict, out) -> str:
    shared = [c for c in report["dedup"]["shared_constants"] if c["bytes"] >= 1024]
    lines = [f"{out}: {report['bytes']:,} bytes ({report['mode']}{', materialized' if report['materialized'] else ''}; "
             f"converter output {report['bytes_converted']:,} bytes, dedup pass saved {report['bytes_saved']:,}, "
             f"metadata {report['bytes_metadata']:,} bytes)",
             f"  {len(shared)} constants of >= 1 KiB are read by more than one operator"]
    lines += [f"  {c['bytes']:>10,} bytes read by {c['readers']} operators: {c['tensor']}" for c in shared[:12]]
    return "\n".join(lines)


def cmd_footprint(args) -> int:
    from converters.footprint import (FootprintError, compare, footprint, format_compare, format_table,
                                      load_report, write_report)

    try:
        if args.compare:
            a, b = (load_report(path, args.threads) for path in args.compare)
            rows = compare(a, b)
            print(json.dumps([dict(zip(("field", "a", "b", "difference"), r)) for r in rows], indent=2)
                  if args.json else format_compare(rows, *args.compare))
            return 0
        if not args.models:
            raise FootprintError("give one or more MODEL.tflite files, or --compare A.json B.json")
    except FootprintError as error:
        print(f"rt-keras footprint: {error}", file=sys.stderr)
        return 2
    reports, refused = [], 0
    for path in args.models:  # a bad file is named and skipped; the others are still measured
        if not args.json:
            print(f"measuring {path} ...", file=sys.stderr)
        try:
            reports.append(footprint(path, seconds=args.seconds, runs=args.runs, warmup=args.warmup,
                                     threads=args.threads, runtime=not args.static,
                                     weight_cache=args.weight_cache))
        except FootprintError as error:
            print(f"rt-keras footprint: {error}", file=sys.stderr)
            refused += 1
    if not reports:
        return 2
    if args.report:
        for written in write_report(reports, args.report):
            print(f"wrote {written}", file=sys.stderr)
    print(json.dumps(reports[0] if len(reports) == 1 else reports, indent=2) if args.json else format_table(reports))
    return 1 if refused or any(r["runtime"] and r["runtime"]["status"] != "ok" for r in reports) else 0


def cmd_transcribe(args) -> int:
    from rt_keras.data.audio import AudioError
    from rt_keras.transcribe import TranscribeError, stream_file, transcribe_files

    if args.stream:
        status = 0
        for wav in args.wavs:
            try:
                partials = stream_file(args.model, wav, args.threads)
            except (TranscribeError, AudioError, OSError) as error:
                print(f"rt-keras transcribe: {error}", file=sys.stderr)
                status = 2 if isinstance(error, TranscribeError) else 1
                continue
            if args.json:
                print(json.dumps({"file": str(wav), "partials": partials}, indent=2))
                continue
            print(f"{wav}:")
            for partial in partials:
                print(f"  {partial['seconds']:6.2f} s  {partial['latency_ms']:6.1f} ms  {partial['transcript']}")
        return status
    try:
        results = transcribe_files(args.model, args.wavs, args.threads)
    except (TranscribeError, OSError) as error:
        print(f"rt-keras transcribe: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(results, indent=2))
    for result in results:
        if result["error"]:
            print(f"rt-keras transcribe: {result['error']}", file=sys.stderr)
        elif not args.json:
            cut = f", cut to the model's {result['cut_to_seconds']:.2f} s" if result["cut_to_seconds"] else ""
            print(f"{result['file']}: {result['transcript'] or '(nothing recognised)'}   "
                  f"({result['seconds']:.2f} s of audio, {result['latency_ms']:.1f} ms{cut})")
    return 1 if any(r["error"] for r in results) else 0


def cmd_dedup(args) -> int:
    from converters.dedup import dedup_file
    from converters.flatbuffer import NotATFLiteModel
    from converters.runner import ModelLoadError

    try:
        report = dedup_file(args.input, args.output)
    except (NotATFLiteModel, ModelLoadError) as error:
        print(f"rt-keras dedup: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
        return 0
    print(f"{args.input}: {report.bytes_before:,} bytes -> {args.output}: {report.bytes_after:,} bytes "
          f"({report.bytes_saved:,} saved; {report.buffers_merged} buffers and {report.tensors_merged} "
          f"tensors merged, {report.buffers_dropped} orphan buffers dropped)")
    for constant in report.shared_constants:
        if constant["bytes"] >= 1024:
            print(f"  {constant['bytes']:>10,} bytes read by {constant['readers']} operators: {constant['tensor']}")
    return 0


def cmd_pipeline(args) -> int:
    """data -> train -> evaluate -> qat -> convert (qat-int8) -> evaluate the .tflite."""
    import pathlib

    from rt_keras.keras_to_tflite import ConversionError
    from rt_keras.runs import pipeline

    out = pathlib.Path(args.out)
    printers = {"data": _format_data, "train": lambda m: _format_train(m, out), "evaluate": _format_evaluation,
                "qat": lambda m: _format_qat(m, out), "convert": lambda r: _format_convert(r, out / "model-qat-int8.tflite"),
                "evaluate the .tflite": lambda r: _format_evaluation(r) + "\n" + _format_comparison(r, out / "evaluation.json")}
    try:
        for step, result in pipeline(args.config, _overrides(args), out, force=args.force):
            print(f"\n== rt-keras pipeline: {step}")
            if result is not None:
                print(printers[step](result))
    except ConversionError as error:
        print(f"rt-keras pipeline: {error}", file=sys.stderr)
        return 2
    print(f"\neverything is in {out}/: config.yaml, model.keras, metrics.json, evaluation.json, history.csv, "
          f"checkpoints/, tensorboard/ (tensorboard --logdir {out}/tensorboard), qat/, and the shipped model "
          f"model-qat-int8.tflite (int8, shared tensors stored once, with metadata)")
    return 0


# rt_keras.keras_to_tflite.MODES, listed here so that `rt-keras --help` loads no TensorFlow
# (tests/test_packaging.py checks both lists agree).
CONVERSION_MODES = ["float32", "float16", "dynamic", "int8", "qat-int8", "int4", "int4-shared"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rt-keras",
        description="ResidualTransformer encoders in Keras: build, train, quantise, convert to "
                    "TFLite with shared tensors stored once, and measure the footprint.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("params", help="unique parameter count of an encoder vs its unshared baseline",
                       description="Build the encoder and its unshared baseline, count unique "
                                   "parameters (shared weights once) by role, and print the fraction.")
    add_encoder_arguments(p)
    p.add_argument("--num-features", type=int, default=80, help="log-mel bins fed to the encoder")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_params)

    p = sub.add_parser("data", help="materialise the splits into the cache (once): digits, or your manifests",
                       description="data.source=digits (default): compose connected-digit utterances from FSDD "
                                   "speakers, their vocal-tract/pitch-perturbed pseudo-speakers, espeak-ng voices and "
                                   "flite/festival voices, and augment the training split. data.source=manifest: read "
                                   "your JSON Lines / CSV manifests (README \"Your own data\"). Either way: build the "
                                   "vocabulary (data.vocabulary: word, char, subword) and write every split with a "
                                   "manifest (sources, skipped rows, a hash of every split) to data.cache_dir, as .npz "
                                   "or TFRecord shards (data.storage). A no-op when already materialised.")
    add_config_arguments(p)
    p.add_argument("--force", action="store_true", help="generate again even if cached")
    p.add_argument("--json", action="store_true", help="print the manifest as JSON")
    p.set_defaults(func=cmd_data)

    p = sub.add_parser("train", help="train a model with model.fit into a run directory",
                       description="Train with CTC through model.fit. The run directory gets the "
                                   "resolved config, the best-validation-WER checkpoint, a resumable "
                                   "backup (a killed run continues where it stopped), TensorBoard logs, "
                                   "history.csv, model.keras and metrics.json.")
    add_config_arguments(p)
    p.add_argument("--out", required=True, metavar="RUN_DIR", help="run directory")
    p.add_argument("--strategy", choices=["default", "mirrored", "multi_worker"],
                   help="tf.distribute strategy (multi_worker reads TF_CONFIG)")
    p.add_argument("--init-from", metavar="RUN_DIR",
                   help="start from this run's model.keras instead of random weights (same encoder, e.g. "
                        "the output of `rt-keras compress`, or a full-context run for a chunked one); the "
                        "config's schedule is the fine-tuning budget")
    p.add_argument("--force", action="store_true", help="train again even if the run finished")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", help="word error rate of a trained run on the test splits",
                       description="WER per test split and per voice, each with its 95%% bootstrap "
                                   "confidence interval and word count, as a table or JSON (with per-utterance "
                                   "errors for paired comparisons); also written to RUN_DIR/evaluation.json.")
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument("--splits", nargs="+", metavar="SPLIT",
                   help="splits to evaluate (default: every test split of the run's data; the digit task has "
                        f"{', '.join(TEST_SPLITS)}; any run also has train and validation)")
    p.add_argument("--tflite", metavar="MODEL.tflite",
                   help="evaluate this converted model with the LiteRT interpreter (one utterance at a "
                        "time, unpadded) instead of RUN_DIR/model.keras; results go to MODEL.tflite.evaluation.json")
    p.add_argument("--against", metavar="EVALUATION.json",
                   help="also compare with another model's evaluation of the same splits (paired bootstrap: "
                        "difference, 95%% CI, significant or inside noise), e.g. runs/baseline/evaluation.json")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("qat", help="quantisation-aware fine-tuning of a trained run (tfmot)",
                       description="Wrap the trained float model of RUN_DIR for 8-bit quantisation-aware "
                                   "training (every weight matrix, the shared W_g once for its K layers) and "
                                   "fine-tune it with model.fit into RUN_DIR/qat (settings: the config's qat "
                                   "section, override with --set qat.FIELD=VALUE). Resumes when interrupted.")
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument("--set", action="append", default=[], metavar="qat.FIELD=VALUE",
                   help="override a qat setting, e.g. --set qat.steps_per_epoch=50")
    p.add_argument("--force", action="store_true", help="run again even if finished")
    p.set_defaults(func=cmd_qat)

    p = sub.add_parser("convert", help="convert a run to .tflite (builtin ops, deduplicated, with metadata)",
                       description="Convert RUN_DIR's model to TFLite with builtin ops only, store every "
                                   "shared tensor once (dedup pass), and add metadata (sample rate, "
                                   "vocabulary). Input: raw mono float32 PCM at 16 kHz, shape [1, samples] "
                                   "(any length unless --samples); output: per-frame log-probabilities.")
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument("--mode", choices=CONVERSION_MODES, default="float32",
                   help="float32; float16 weights; dynamic (int8 weights, float activations); int8 (full-integer "
                        "post-training, calibrated on training audio); qat-int8 (from `rt-keras qat RUN_DIR`); "
                        "int4 (4-bit weights, float activations quantised on the fly, ai-edge-quantizer); "
                        "int4-shared (the shared W_g in 4 bits, the other matrices in 8)")
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
                        "state layout is in the metadata (modes float32, float16, dynamic, int8, int4, int4-shared)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_convert)

    p = sub.add_parser("compress", help="turn a trained unshared run into the residual shared form",
                       description="W_g = mean of each group's matrices, d_l = diagonal of the residual, "
                                   "A_l B_l = rank-R truncated SVD of the rest (Relaxed Recursive "
                                   "Transformers style); everything else is copied. Writes model.keras, "
                                   "config.yaml and compression.json (relative error per matrix) to --out.")
    p.add_argument("run_dir", metavar="RUN_DIR", help="a finished run of an unshared (K=1, R=0) model")
    p.add_argument("--out", required=True, metavar="NEW_RUN_DIR")
    p.add_argument("--group-size", "-K", type=int, required=True)
    p.add_argument("--rank", "-R", type=int, required=True)
    p.add_argument("--diagonal", action=argparse.BooleanOptionalAction, help="default: on when R>0")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_compress)

    p = sub.add_parser("transcribe", help="transcribe WAV files with a converted .tflite model",
                       description="Greedy CTC transcript of each WAV file (any rate and channel count the "
                                   "training reader accepts; resampled to the model's rate) by MODEL.tflite, run by "
                                   "the LiteRT interpreter, with the audio length and inference time.")
    p.add_argument("model", metavar="MODEL.tflite", help="a model written by `rt-keras convert` (with metadata)")
    p.add_argument("wavs", nargs="+", metavar="FILE.wav")
    p.add_argument("--threads", type=_int_at_least(1, 64), default=1, help="interpreter threads (default: %(default)s)")
    p.add_argument("--json", action="store_true", help="one object per file: transcript, seconds, latency_ms, error")
    p.add_argument("--stream", action="store_true",
                   help="feed a streaming model (convert --streaming) chunk by chunk and print the transcript "
                        "after each chunk, with the audio time it had heard and the chunk's compute time")
    p.set_defaults(func=cmd_transcribe)

    p = sub.add_parser("dedup", help="store byte-identical constants of a .tflite once",
                       description="Merge byte-identical constant buffers and identical constant tensors "
                                   "of any .tflite, drop orphan buffers, and report which shared constants "
                                   "are read by how many operators. Output is written atomically.")
    p.add_argument("input", metavar="IN.tflite")
    p.add_argument("output", metavar="OUT.tflite")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_dedup)

    p = sub.add_parser("footprint", help="file, weight, memory and latency footprint of .tflite models",
                       description="Measure .tflite speech models the way on-device engineers do: file bytes, "
                                   "sha256, weight bytes (total, unique, by role shared / low_rank / diagonal / "
                                   "per_layer / other), op counts, signature, metadata; then, with the LiteRT interpreter in "
                                   "a fresh child process per model: load time, resident memory before/after "
                                   "load and peak, latency (median, p90, min) and real-time factor. Report "
                                   "schema: docs/footprint-schema.md (the Android app writes the same).")
    p.add_argument("models", nargs="*", metavar="MODEL.tflite")
    p.add_argument("--seconds", type=_audio_seconds,
                   help="audio length per inference (default: the model's fixed input length, else 2.0)")
    p.add_argument("--runs", type=_int_at_least(1), default=20, help="timed runs after warm-up (default: %(default)s)")
    p.add_argument("--warmup", type=_int_at_least(0), default=3, help="untimed warm-up runs (default: %(default)s)")
    p.add_argument("--threads", type=_int_at_least(1, 64), default=1, help="interpreter threads (default: %(default)s); with --compare, "
                   "which report to take from a file that holds several (the app's 1/2/4-thread benchmark)")
    p.add_argument("--static", action="store_true", help="skip the runtime measurement")
    p.add_argument("--weight-cache", action="store_true",
                   help="run through LiteRT's CompiledModel with XNNPACK's in-memory weight cache, which packs "
                        "a shared W_g once instead of once per layer that reads it (whole-utterance models only)")
    p.add_argument("--json", action="store_true", help="print the report(s) in the documented schema")
    p.add_argument("--report", metavar="DIR", help="also write DIR/README.md, footprint.json and PNG plots")
    p.add_argument("--compare", nargs=2, metavar=("A.json", "B.json"),
                   help="print two reports (host or phone) side by side, field by field")
    p.set_defaults(func=cmd_footprint)

    p = sub.add_parser("pipeline", help="the whole job: data, train, evaluate, qat, convert",
                       description="Run every step into one run directory: data, train, evaluate, "
                                   "quantisation-aware training, conversion to a deduplicated qat-int8 "
                                   "model-qat-int8.tflite with metadata, and its WER. Finished steps are skipped.")
    add_config_arguments(p)
    p.add_argument("--out", required=True, metavar="RUN_DIR")
    p.add_argument("--force", action="store_true", help="run every step again even if finished")
    p.set_defaults(func=cmd_pipeline)
    return parser


class _CurrentStderr(logging.StreamHandler):
    """Writes to ``sys.stderr`` as it is when the message comes (tests swap it)."""

    stream = property(lambda self: sys.stderr, lambda self, value: None)


def _show_library_log() -> None:
    """The library logs what it skips and how training goes (logger "rt_keras"): shown on
    stderr, so that --json output on stdout stays machine-readable."""
    logger = logging.getLogger("rt_keras")
    if not logger.handlers:
        handler = _CurrentStderr()
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    _show_library_log()
    try:
        return args.func(args)
    except (ConfigError, FileNotFoundError) as error:
        print(f"rt-keras {args.command}: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
