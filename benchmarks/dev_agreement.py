"""Does a development split predict the held-out test splits? Every arm of a study plan against
its reference arm (the recipe), paired over all seeds (benchmarks/study.py ``paired``), on each
selection split and each test split the study evaluates; then, for each selection split, on how
many test splits its verdict (better, worse, inside noise) is the test split's verdict; and the
words each arm emits per minute of noise alone (the plan's noise-only splits) against the
reference's.

    python -m benchmarks.dev_agreement --plan benchmarks/robust.yaml --runs runs/robust --reference recipe \\
        [--kind tflite|keras] [--results docs/results.md]

A development split that says "better" where the held-out conditions say "worse" would choose
components that do not carry over to conditions never trained on.
"""

from __future__ import annotations

import argparse
import sys

from benchmarks import study
from benchmarks.results_file import publish

KINDS = {"tflite": "qat-int8 files", "keras": "float Keras models"}


VERDICTS = {"A is better": "better", "B is better": "worse", "no difference resolved": "noise"}


def verdict(pair: dict) -> str:
    """The study's two-sided verdict of arm (A) − reference (B): better, worse or noise."""
    return VERDICTS[study.verdict("either", pair)[0]]


def comparisons(plan: dict, results: dict, reference: str, kind: str) -> dict:
    """{arm: {split: paired difference with its verdict}} for the arms that share seeds with
    ``reference``, on the plan's selection splits and every test split it evaluates."""
    splits = plan["select_splits"] + held_out_splits(plan)
    out = {}
    evaluated = {arm: {seed: run for seed, run in by_seed.items() if all(s in run[kind] for s in splits)}
                 for arm, by_seed in results.items()}
    for arm in compared_arms(plan, reference):
        pairs = {split: study.paired(evaluated, arm, reference, kind, split) for split in splits}
        if all(pair is not None for pair in pairs.values()):
            out[arm] = {split: {**pair, "verdict": verdict(pair)} for split, pair in pairs.items()}
    return out


def held_out_splits(plan: dict) -> list[str]:
    return [s for s in dict.fromkeys([*study.SPLITS, *plan["extra_splits"]])
            if s.startswith("test") and s not in plan["select_splits"]]


def agreement(compared: dict, plan: dict) -> dict:
    """{selection split: {"same": both better or both worse, "opposite": one better and the
    other worse, "noise": both inside noise, "total"}} over every (arm, held-out split) pair;
    the remaining pairs have one side inside noise."""
    held_out = held_out_splits(plan)
    out = {}
    for dev in plan["select_splits"]:
        pairs = [(by_split[dev]["verdict"], by_split[test]["verdict"])
                 for by_split in compared.values() for test in held_out]
        out[dev] = {"same": sum(a == b != "noise" for a, b in pairs),
                    "opposite": sum({a, b} == {"better", "worse"} for a, b in pairs),
                    "noise": sum(a == b == "noise" for a, b in pairs), "total": len(pairs)}
    return out


def words_from_noise(plan: dict, results: dict, reference: str, kind: str) -> dict:
    """{arm: {noise-only split: per-seed arm − reference words per minute}} over the seeds both have."""
    out = {}
    for arm in compared_arms(plan, reference):
        seeds = sorted(set(results.get(arm, {})) & set(results.get(reference, {})))
        runs = [(results[arm][s][kind], results[reference][s][kind]) for s in seeds]
        out[arm] = {noise: [a[noise]["per_minute"] - b[noise]["per_minute"]
                            for a, b in runs if noise in a and noise in b] for noise in plan["noise_only"]}
    return out


def compared_arms(plan: dict, reference: str) -> list[str]:
    return [arm for arm in plan["arms"] if arm != reference]


def table(plan: dict, compared: dict, reference: str, kind: str, command: str, noise: dict | None = None) -> str:
    splits = plan["select_splits"] + held_out_splits(plan)
    mark = {"better": "better", "worse": "**worse**", "noise": "noise"}
    seeds = sorted({len(pair["seeds"]) for by_split in compared.values() for pair in by_split.values()})
    lines = [f"```\n{command}\n```", "",
             f"Arm − {reference}, {KINDS[kind]}, paired over {'/'.join(map(str, seeds))} seeds: WER points [95% CI] "
             "and the verdict (the interval below zero: better; above: worse; across it: noise). "
             f"Selection splits: {', '.join(plan['select_splits'])}; the rest are held-out test splits.", "",
             "| arm | " + " | ".join(splits) + " |", "|---|" + "---|" * len(splits)]
    for arm, by_split in compared.items():
        cells = [f"{100 * p['difference']:+.2f} [{100 * p['ci95'][0]:+.2f}, {100 * p['ci95'][1]:+.2f}] "
                 f"{mark[p['verdict']]}" for p in (by_split[s] for s in splits)]
        lines.append(f"| {arm} | " + " | ".join(cells) + " |")
    lines += ["", "Over every (arm, held-out split) pair, how the selection split's verdict compares with the held-out "
              "split's:", "", "| selection split | same direction | opposite directions | both inside noise | "
              "one side inside noise | pairs |", "|---|---|---|---|---|---|"]
    for dev, counts in agreement(compared, plan).items():
        mixed = counts["total"] - counts["same"] - counts["opposite"] - counts["noise"]
        lines.append(f"| {dev} | {counts['same']} | {counts['opposite']} | {counts['noise']} | {mixed} | "
                     f"{counts['total']} |")
    if noise and plan["noise_only"]:
        lines += ["", f"Words emitted per minute of noise alone, arm − {reference}, per seed:", "",
                  "| arm | " + " | ".join(plan["noise_only"]) + " |", "|---|" + "---|" * len(plan["noise_only"])]
        for arm, by_noise in noise.items():
            if any(by_noise.values()):
                lines.append(f"| {arm} | " + " | ".join(", ".join(f"{d:+.1f}" for d in by_noise[n]) or "—"
                                                       for n in plan["noise_only"]) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--plan", required=True)
    parser.add_argument("--runs", required=True)
    parser.add_argument("--reference", default="recipe", help="the arm every other arm is compared with")
    parser.add_argument("--kind", choices=sorted(KINDS), default="tflite")
    parser.add_argument("--results", help="also write the table into this markdown file (section dev-agreement)")
    args = parser.parse_args(argv)
    plan = study.load_plan(args.plan)
    if args.reference not in plan["arms"]:
        parser.error(f"--reference {args.reference!r}: not an arm of {args.plan} ({', '.join(plan['arms'])})")
    results = study.collect(plan, args.runs)
    compared = comparisons(plan, results, args.reference, args.kind)
    if not compared:
        print(f"no arm of {args.plan} has finished seeds paired with {args.reference} in {args.runs}", file=sys.stderr)
        return 1
    command = "python -m benchmarks.dev_agreement " + " ".join(argv if argv is not None else sys.argv[1:])
    noise = words_from_noise(plan, results, args.reference, args.kind)
    publish(table(plan, compared, args.reference, args.kind, command, noise), args.results, "dev-agreement",
            "Which development split predicts the held-out conditions (issue 31)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
