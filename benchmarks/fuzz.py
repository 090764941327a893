"""Seeded mutations of a converted model through the three commands that read models
users hand them: `rt-keras dedup`, `rt-keras footprint` and `rt-keras evaluate --tflite`
(its load check, then the in-process interpreter on 1 s of the benchmark signal).

Each mutation ends in "ok", "refused" (the command's own error, naming the file) or an
escape (any other exception: a traceback for the user). A crash of the interpreter
would take this process down: that is a finding too, and the log names the trial.
Resumable: outcomes are appended to OUT/outcomes.jsonl and finished trials are skipped.

    python benchmarks/fuzz.py MODEL.tflite [--mutations 1000] [--seed 0] [--out runs/fuzz]
"""

from __future__ import annotations

import argparse
import collections
import json
import pathlib
import random
import sys
import traceback

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from converters.dedup import dedup_file  # noqa: E402
from converters.flatbuffer import NotATFLiteModel  # noqa: E402
from converters.footprint import FootprintError, footprint  # noqa: E402
from converters.footprint_probe import test_audio  # noqa: E402
from converters.runner import ModelLoadError, TFLiteModel, check_loads  # noqa: E402

KINDS = ("bit flips", "table byte", "truncation", "associated files")


def mutations(data: bytes, count: int, seed: int = 0):
    """(trial, kind, mutated bytes): bit flips anywhere, a byte of the flatbuffer's tables
    (near the start), a truncation, or damage to the associated-files zip at the end."""
    rng = random.Random(seed)
    for trial in range(count):
        mutated = bytearray(data)
        kind = trial % 4
        if kind == 0:
            for _ in range(rng.randint(1, 8)):
                i = rng.randrange(len(mutated))
                mutated[i] ^= 1 << rng.randrange(8)
        elif kind == 1:
            mutated[rng.randrange(min(len(mutated), 4096))] = rng.randrange(256)
        elif kind == 2:
            mutated = mutated[:rng.randrange(len(mutated))]
        else:
            mutated[rng.randrange(len(mutated) - 64, len(mutated))] ^= 0xFF
        yield trial, KINDS[kind], bytes(mutated)


def _outcome(run, refusals) -> str:
    try:
        run()
        return "ok"
    except refusals:
        return "refused"
    except Exception:  # noqa: BLE001  (an escape is what we count)
        return "escape: " + traceback.format_exc(limit=3).strip().splitlines()[-1]


def fuzz_one(path: pathlib.Path, work: pathlib.Path) -> dict:
    audio = test_audio(16000, 16000).reshape(1, -1)

    def evaluate():
        check_loads(path)
        TFLiteModel(path)(audio)

    return {
        "dedup": _outcome(lambda: dedup_file(path, work / "deduped.tflite"), (NotATFLiteModel, ModelLoadError)),
        "footprint": _outcome(lambda: footprint(path, seconds=1.0, runs=1, warmup=0), FootprintError),
        "evaluate": _outcome(evaluate, (NotATFLiteModel, ModelLoadError)),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", type=pathlib.Path)
    parser.add_argument("--mutations", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=pathlib.Path, default=ROOT / "runs" / "fuzz")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    log = args.out / "outcomes.jsonl"
    done = {json.loads(line)["trial"] for line in log.read_text().splitlines()} if log.is_file() else set()
    original = args.model.read_bytes()
    for trial, kind, data in mutations(original, args.mutations, args.seed):
        if trial in done:
            continue
        path = args.out / "mutated.tflite"
        path.write_bytes(data)
        print(f"trial {trial} ({kind})", file=sys.stderr, flush=True)  # names the trial if the process dies
        record = {"trial": trial, "kind": kind, **fuzz_one(path, args.out)}
        with log.open("a") as f:
            f.write(json.dumps(record) + "\n")
        if args.model.read_bytes() != original:
            raise SystemExit("the input model changed")
    records = [json.loads(line) for line in log.read_text().splitlines()]
    print(f"{len(records)} mutations of {args.model} (seed {args.seed}):")
    for command in ("dedup", "footprint", "evaluate"):
        counts = collections.Counter("escape" if r[command].startswith("escape") else r[command] for r in records)
        print(f"  {command:<10} ok {counts['ok']:>5}   refused {counts['refused']:>5}   escaped {counts['escape']:>3}")
        for r in records:
            if r[command].startswith("escape"):
                print(f"    trial {r['trial']} ({r['kind']}): {r[command]}")
    return 1 if any(v.startswith("escape") for r in records for k, v in r.items() if k in ("dedup", "footprint", "evaluate")) else 0


if __name__ == "__main__":
    sys.exit(main())
