"""Peak memory of `rt-keras train` as the training data grows: 1x and 4x the voice-command
training set (benchmarks/commands_data.py; the 4x set is each recording four times, as
hard links under new names), with the splits in memory (`data.storage: memory`) and
streamed from TFRecord shards (`data.storage: shards`). Each measurement is a fresh
`rt-keras train` process (materialising its data, then 40 training steps) whose peak RSS
is read from the kernel when it exits; each is cached in its own directory (resumable).

    python -m benchmarks.commands_data --out .cache/commands
    python -m benchmarks.data_memory --commands .cache/commands --out runs/data-memory
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import resource
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]

SCALES = (1, 4)
STORAGES = ("memory", "shards")


def scaled_manifest(commands: pathlib.Path, scale: int, out: pathlib.Path) -> pathlib.Path:
    """The training manifest with every recording ``scale`` times, each copy a hard link
    (no extra disk) named apart, so the reader treats them as different recordings."""
    rows = [json.loads(line) for line in (commands / "train.jsonl").read_text().splitlines() if line.strip()]
    out.mkdir(parents=True, exist_ok=True)
    scaled = []
    for copy in range(scale):
        for row in rows:
            link = out / f"copy{copy}" / row["audio"]
            link.parent.mkdir(parents=True, exist_ok=True)
            if not link.exists():
                os.link(commands / row["audio"], link)
            scaled.append({**row, "audio": str(link.relative_to(out)), "speaker": f"{row['speaker']}#{copy}"})
    manifest = out / "train.jsonl"
    manifest.write_text("".join(json.dumps(row) + "\n" for row in scaled))
    return manifest


def measure(command: list[str]) -> dict:
    """Run ``command``; its exit status and peak RSS (this process has no other child)."""
    result = subprocess.run(command, capture_output=True, text=True)
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"status": result.returncode, "peak_rss_mb": peak_kb / 1024, "stderr_tail": result.stderr[-2000:]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--commands", default=".cache/commands", help="output of benchmarks/commands_data.py")
    parser.add_argument("--out", default="runs/data-memory")
    parser.add_argument("--steps", type=int, default=40, help="training steps per measurement")
    parser.add_argument("--measure", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:  # the child that measures one command (RUSAGE_CHILDREN covers it alone)
        print(json.dumps(measure(args.measure)))
        return 0

    commands, out = pathlib.Path(args.commands).absolute(), pathlib.Path(args.out).absolute()
    if not (commands / "train.jsonl").is_file():
        parser.error(f"{commands}/train.jsonl not found: run python -m benchmarks.commands_data --out {commands}")
    results = {}
    for scale in SCALES:
        manifest = scaled_manifest(commands, scale, out / f"data-{scale}x")
        for storage in STORAGES:
            name = f"{storage}-{scale}x"
            cached = out / name / "memory.json"
            if cached.is_file():
                results[name] = json.loads(cached.read_text())
                continue
            train = [sys.executable, "-m", "rt_keras.cli", "train", "--config", str(ROOT / "configs" / "commands.yaml"),
                     "--out", str(out / name / "run"), "--force",
                     "--set", f"data.manifests={{train: {manifest}, validation: {commands / 'validation.csv'}, "
                              f"test_tts_unseen: {commands / 'test_tts_unseen.jsonl'}}}",
                     "--set", f"data.storage={storage}", "--set", f"data.cache_dir={out / name / 'cache'}",
                     "--set", "train.epochs=1", "--set", f"train.steps_per_epoch={args.steps}"]
            child = subprocess.run([sys.executable, __file__, "--measure", *train], capture_output=True, text=True)
            if child.returncode != 0:
                print(child.stderr[-3000:], file=sys.stderr)
                return 1
            result = json.loads(child.stdout.strip().splitlines()[-1])
            if result["status"] != 0:
                print(f"{name}: rt-keras train failed:\n{result['stderr_tail']}", file=sys.stderr)
                return 1
            data = json.loads((out / name / "run" / "metrics.json").read_text())["data_dir"]
            result.update({"train_utterances": json.loads((pathlib.Path(data) / "manifest.json").read_text())
                           ["splits"]["train"]["utterances"], "steps": args.steps})
            del result["stderr_tail"]
            cached.write_text(json.dumps(result, indent=2) + "\n")
            results[name] = result
            print(f"{name}: {result['train_utterances']} training utterances, peak RSS {result['peak_rss_mb']:.0f} MB",
                  flush=True)
    print(f"\n{'storage':<10}{'1x MB':>10}{'4x MB':>10}{'4x / 1x':>10}   (training utterances "
          f"{results['memory-1x']['train_utterances']:,} / {results['memory-4x']['train_utterances']:,})")
    for storage in STORAGES:
        one, four = results[f"{storage}-1x"]["peak_rss_mb"], results[f"{storage}-4x"]["peak_rss_mb"]
        print(f"{storage:<10}{one:>10.0f}{four:>10.0f}{four / one:>10.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
