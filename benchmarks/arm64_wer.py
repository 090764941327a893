"""WER of .tflite files on arm64 LiteRT under QEMU (converters/emulate.py), paired against the
same file on this host (x86): each split's utterances are run once natively and once per
emulated CPU by the same runner (converters.runner: whole utterances, or chunk by chunk for a
streaming file), then decoded and scored on the host. Besides the paired WER difference it
counts the utterances whose transcript differs and the largest log-probability difference,
which say whether the arm64 kernels compute the same thing, not only the same error rate.

    python -m benchmarks.arm64_wer RUN_DIR FILE.tflite [FILE ...] --cpus cortex-a53 cortex-a76 max,sme=off \\
        [--splits test_real test_tts_unseen] [--out runs/arm64-wer]

Needs `make arm64-runtime`. Resumable: each (file, CPU or x86) is cached in OUT/FILE/CPU.npz.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import subprocess
import sys
import tempfile

import numpy as np

from converters import emulate

# Runs every utterance of INPUTS.npz through the file as `rt-keras evaluate --tflite` does and
# writes each one's log-probabilities to OUTPUT.npz; the same text runs natively and emulated.
RUNNER = """
import json, sys
import numpy as np
from converters.runner import StreamingTFLiteModel, TFLiteModel
path, inputs, output, layout = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
model = StreamingTFLiteModel(path, layout=layout).utterance if layout else TFLiteModel(path)
audio = np.load(inputs)
np.savez(output, **{key: np.asarray(model(audio[key][None]), np.float32)[0] for key in audio.files})
"""
X86 = "x86"


def _utterances(run_dir, splits) -> dict:
    from rt_keras.data.storage import data_directory, load_split
    from rt_keras.runs.run_dir import trained

    config = trained(run_dir).load_config()
    return {split: load_split(data_directory(config), split) for split in splits}


def log_probs(model: pathlib.Path, data: dict, cpu: str, out: pathlib.Path) -> dict:
    """{split: [log-probs per utterance]} of ``model`` on ``cpu`` (X86: this host), cached."""
    from converters.metadata import read_metadata
    from rt_keras.data.batches import pad_audio

    cache = out / model.stem / f"{cpu}.npz"
    if not cache.is_file():
        # the streaming layout is read here: the emulated Python has no tflite-support
        layout = ((read_metadata(model.read_bytes()) or {}).get("info") or {}).get("streaming")
        with tempfile.TemporaryDirectory() as scratch:
            inputs, outputs = pathlib.Path(scratch) / "in.npz", pathlib.Path(scratch) / "out.npz"
            np.savez(inputs, **{f"{split}/{i:05d}": pad_audio(split_data, [i])[0][0]  # float, as evaluate feeds it
                                for split, split_data in data.items() for i in range(len(split_data))})
            argv = ["-c", RUNNER, model.resolve(), inputs, outputs, json.dumps(layout)]
            if cpu == X86:
                done = subprocess.run([sys.executable, *map(str, argv)], capture_output=True, text=True)
            else:
                done = emulate.run_python(cpu, argv, timeout=4 * 3600)
            if done.returncode != 0:
                raise RuntimeError(f"{model} on {cpu}: exit {done.returncode}: {done.stderr.strip()[-800:]}")
            cache.parent.mkdir(parents=True, exist_ok=True)
            pathlib.Path(outputs).replace(cache)
    saved = np.load(cache)
    return {split: [saved[f"{split}/{i:05d}"] for i in range(len(split_data))] for split, split_data in data.items()}


def scored(outputs: list, split_data, frontend) -> dict:
    from rt_keras.core.contracts import greedy_decode, output_frames
    from rt_keras.training.evaluation import score

    hypotheses = [split_data.vocabulary.decode(greedy_decode(lp, output_frames(audio.size, frontend)))
                  for lp, audio in zip(outputs, split_data.audio)]
    return {**score(split_data.transcripts, hypotheses, split_data.sources), "hypotheses": hypotheses}


def compare(run_dir, models, cpus, splits, out) -> dict:
    """{model: {cpu: {split: WER, paired difference from x86, transcripts that differ, max |delta log-prob|}}}."""
    from rt_keras.core.wer_stats import paired_bootstrap
    from rt_keras.runs.run_dir import trained

    frontend = trained(run_dir).load_config().frontend
    data = _utterances(run_dir, splits)
    table = {}
    for model in map(pathlib.Path, models):
        native = log_probs(model, data, X86, out)
        reference = {split: scored(native[split], data[split], frontend) for split in splits}
        table[model.name] = {X86: {split: {k: reference[split][k] for k in ("wer", "ci95", "words")}
                                   for split in splits}}
        for cpu in cpus:
            emulated = log_probs(model, data, emulate.check_cpu(cpu), out)
            rows = {}
            for split in splits:
                result = scored(emulated[split], data[split], frontend)
                pair = paired_bootstrap(result["utterance_errors"], reference[split]["utterance_errors"],
                                        result["utterance_words"])
                rows[split] = {"wer": result["wer"], "ci95": result["ci95"], "words": result["words"],
                               "minus_x86": pair["difference"], "minus_x86_ci95": pair["ci95"],
                               "verdict": pair["verdict"],
                               "transcripts_differ": sum(a != b for a, b in zip(result["hypotheses"],
                                                                                reference[split]["hypotheses"])),
                               "utterances": len(result["hypotheses"]),
                               "max_abs_log_prob_difference": max(float(np.max(np.abs(a - b)))
                                                                  for a, b in zip(emulated[split], native[split]))}
            table[model.name][cpu] = rows
            print(f"{model.name} on {cpu}: " + "; ".join(
                f"{split} {100 * r['wer']:.2f}% ({100 * r['minus_x86']:+.2f} vs x86, {r['transcripts_differ']} "
                f"transcripts differ, max |d log p| {r['max_abs_log_prob_difference']:.3g})"
                for split, r in rows.items()), flush=True)
    return table


def markdown(table: dict, command: str) -> str:
    lines = [f"```\n{command}\n```", "",
             "| file | CPU | split | WER [95% CI] (words) | − x86, paired [95% CI] | transcripts that differ "
             "| max abs log-prob difference |", "|---|---|---|---|---|---:|---:|"]
    for name, by_cpu in table.items():
        for cpu, rows in by_cpu.items():
            for split, r in rows.items():
                low, high = r["ci95"]
                cells = ("—", "—", "—") if cpu == X86 else (
                    f"{100 * r['minus_x86']:+.2f} [{100 * r['minus_x86_ci95'][0]:+.2f}, "
                    f"{100 * r['minus_x86_ci95'][1]:+.2f}] {r['verdict']}",
                    f"{r['transcripts_differ']} of {r['utterances']}", f"{r['max_abs_log_prob_difference']:.3g}")
                lines.append(f"| {name} | {cpu} | {split} | {100 * r['wer']:.2f}% [{100 * low:.1f}, "
                             f"{100 * high:.1f}] ({r['words']:,}) | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_dir", help="the run whose data the files are evaluated on")
    parser.add_argument("models", nargs="+", metavar="FILE.tflite")
    parser.add_argument("--cpus", nargs="+", default=["cortex-a53", "cortex-a76", "max,sme=off"])
    parser.add_argument("--splits", nargs="+", default=["test_real", "test_tts_unseen"])
    parser.add_argument("--out", default="runs/arm64-wer", help="cache directory (resumable)")
    args = parser.parse_args(argv)
    try:
        cpus = [emulate.check_cpu(cpu) for cpu in args.cpus]
        table = compare(args.run_dir, args.models, cpus, args.splits, pathlib.Path(args.out))
    except emulate.EmulationError as error:
        parser.error(str(error))
    command = "python -m benchmarks.arm64_wer " + " ".join(
        [args.run_dir, *args.models, "--cpus", *args.cpus, "--splits", *args.splits])
    (pathlib.Path(args.out) / "arm64_wer.json").write_text(json.dumps(table, indent=2))
    print(markdown(table, command))
    return 0


if __name__ == "__main__":
    sys.exit(main())
