"""`rt-keras evaluate`: WER with confidence intervals of a run, or of a .tflite made from it."""

from __future__ import annotations

import json
import sys

from rt_keras.core.splits import TEST_SPLITS


def register(subparsers) -> None:
    p = subparsers.add_parser("evaluate", help="word error rate of a trained run on the test splits",
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
    p.set_defaults(run=run)


def run(args) -> int:
    from converters.files import check_input_file
    from converters.flatbuffer import NotATFLiteModel
    from converters.runner import ModelLoadError
    from rt_keras.runs.evaluate import evaluate_run

    other = read_evaluation(args.against) if args.against else None  # refused before any work
    if args.tflite:
        check_input_file(args.tflite, "--tflite")
    try:
        results, _ = evaluate_run(args.run_dir, args.splits, tflite=args.tflite)
    except (NotATFLiteModel, ModelLoadError) as error:
        print(f"rt-keras evaluate: {error}", file=sys.stderr)
        return 2
    print(json.dumps(results, indent=2) if args.json else format_evaluation(results))
    if args.against:  # after the JSON on stdout, the comparison goes to stderr
        print(format_comparison(results, other, args.against), file=sys.stderr if args.json else sys.stdout)
    return 0


def format_evaluation(results: dict) -> str:
    from rt_keras.core.wer_stats import format_wer

    width = max([34] + [len(voice) + 4 for result in results.values() for voice in result["by_voice"]])
    lines = [f"{'split / voice':<{width}}{'utterances':>11}{'words':>8}   {'WER [95% CI]':<23}   characters   "
             f"{'CER [95% CI]':<23}   sub/del/ins"]
    for name, result in results.items():
        cer = result["cer"]
        # evaluation files written before the error kinds were counted have none
        kinds = "/".join(str(result.get(kind, "-")) for kind in ("substitutions", "deletions", "insertions"))
        lines.append(f"{name:<{width}}{result['utterances']:>11}{result['words']:>8}   {format_wer(result):<23}   "
                     f"{cer['characters']:>10}   {format_wer({'wer': cer['cer'], 'ci95': cer['ci95']}):<23}   {kinds}")
        if len(result["by_voice"]) > 1 or name.startswith("test_real"):
            for voice, sub in result["by_voice"].items():
                lines.append(f"  {voice:<{width - 2}}{sub['utterances']:>11}{sub['words']:>8}   {format_wer(sub)}")
    return "\n".join(lines)


def read_evaluation(path) -> dict:
    """An evaluation file written by `rt-keras evaluate` ({split: result}), or UserError
    naming what is wrong with it."""
    from converters.files import check_input_file
    from rt_keras.core.errors import UserError

    path = check_input_file(path, "--against")
    try:
        other = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as error:
        raise UserError(f"--against {path}: not an evaluation file written by rt-keras evaluate "
                        f"(not JSON: {error})") from None
    if not isinstance(other, dict) or not all(isinstance(v, dict) for v in other.values()):
        raise UserError(f"--against {path}: not an evaluation file written by rt-keras evaluate "
                        "(expected {split: result})")
    return other


def format_comparison(results: dict, other: dict, other_name) -> str:
    """Paired bootstrap of this evaluation against another one of the same splits."""
    from rt_keras.core.wer_stats import paired_bootstrap

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
