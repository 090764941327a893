"""ResidualTransformer's trade-offs at small scale, with error bars: every arm of
benchmarks/study.yaml (baseline, an equal-size dense model, ALBERT-style sharing, RT
with other K, R, no diagonal, cyclic sharing, and a compressed-then-fine-tuned
baseline) trained with the demo recipe for several seeds, fine-tuned for int8 (QAT),
converted to qat-int8 .tflite, evaluated on the unseen-voice test splits (Keras and
.tflite), and measured (host latency, training step time); then docs/study.md with the
table, a Pareto plot and the paper's claims with paired-bootstrap verdicts.

    python -m benchmarks.study --runs runs/study                  # everything (hours; resumable)
    python -m benchmarks.study --runs runs/study --only baseline  # one arm, all its seeds
    python -m benchmarks.study --runs runs/study --report-only    # the doc from finished runs

Resumable: each (arm, seed) is its own run directory RUNS/ARM/seed-S and every stage
(train, evaluate, qat, convert, evaluate the .tflite) is skipped when its output exists;
an interrupted training resumes from its last epoch. ``RUNS/ARM/seed-S/study_run.json``
marks a finished run. The measurements (latency, step time) are taken in one pass over
the arms' seed-0 runs and cached in RUNS/measurements.json until the set of arms changes.
"""

from __future__ import annotations

import argparse
import json
import math
import pathlib
import shutil
import statistics
import sys
import time

import yaml

from converters.files import atomic_write_json, atomic_write_text
from rt_keras.core import run_config
from rt_keras.core.splits import DEV_NOISE_ONLY, NOISE_ONLY, is_noise_only
from rt_keras.core.wer_stats import format_wer, mean_and_sd, paired_bootstrap, wer_interval
from rt_keras.runs.run_dir import RunDir

ROOT = pathlib.Path(__file__).resolve().parents[1]

SPLITS = ("test_real", "test_tts_unseen", "test_real_perturbed")
CLAIM_SPLITS = ("test_real", "test_tts_unseen")
MARGIN = 0.01  # "slight WER cost": at most 1 point (absolute) worse than the baseline
TFLITE = "model-qat-int8.tflite"
QAT4_TFLITE = "model-qat-int4.tflite"  # plans with ``qat_int4: true``
# Bumped when the converter changes what a qat-int8 file computes (2: the lean graph, attention
# and LayerNorms float): runs converted before are converted and evaluated again on resume,
# so every arm's .tflite WER comes from the same converter (training and QAT are kept).
CONVERTER = 2


class PlanError(ValueError):
    """benchmarks/study.yaml (or the --plan file) is malformed; the message says where."""


# ------------------------------------------------------------------------------ plan
def load_plan(path) -> dict:
    path = pathlib.Path(path)
    plan = yaml.safe_load(path.read_text())
    if not isinstance(plan, dict) or not isinstance(plan.get("arms"), dict) or not plan["arms"]:
        raise PlanError(f"{path}: expected a mapping with 'base', 'seeds' and a non-empty 'arms' mapping")
    base = pathlib.Path(plan.get("base", "configs/rt.yaml"))
    plan["set"] = plan.get("set", [])  # overrides of every arm (before the arm's own)
    if not isinstance(plan["set"], list) or not all(isinstance(item, str) for item in plan["set"]):
        raise PlanError(f"{path}: set must be a list of SECTION.FIELD=VALUE strings")
    plan["base"] = base if base.is_absolute() else ROOT / base
    default_seeds = plan.get("seeds", 2)
    for name, arm in plan["arms"].items():
        arm = plan["arms"][name] = dict(arm or {})
        arm.setdefault("set", [])
        arm.setdefault("seeds", default_seeds)
        if not isinstance(arm["seeds"], int) or isinstance(arm["seeds"], bool) or arm["seeds"] < 1:
            raise PlanError(f"{path}: arms.{name}.seeds={arm['seeds']!r}; expected a positive integer")
        if not isinstance(arm["set"], list) or not all(isinstance(item, str) for item in arm["set"]):
            raise PlanError(f"{path}: arms.{name}.set must be a list of SECTION.FIELD=VALUE strings")
        compress = arm.get("compress")
        sources = [("init", arm["init"])] if "init" in arm else []
        if compress is not None:
            sources.append(("compress.source", compress.get("source") if isinstance(compress, dict) else None))
        for field, source in sources:
            if source not in plan["arms"] or list(plan["arms"]).index(source) > list(plan["arms"]).index(name):
                raise PlanError(f"{path}: arms.{name}.{field}={source!r}; expected an arm listed before it")
            if arm["seeds"] > plan["arms"][source]["seeds"]:
                raise PlanError(f"{path}: arms.{name} has more seeds than its source arm {source}")
    plan["path"] = path
    # select_splits: the splits the claims are decided on (development splits, for a plan that
    # chooses); extra_splits: more splits every run is evaluated and reported on; noise_only:
    # also count the words each model emits from the noise-only split (per minute): true (the
    # held-out noise_only) or a list of noise-only splits (dev_noise_only, noise_only).
    plan["select_splits"] = plan.get("select_splits", list(CLAIM_SPLITS))
    plan["extra_splits"] = plan.get("extra_splits", [])
    for field in ("select_splits", "extra_splits"):
        value = plan[field]
        if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value) \
                or (field == "select_splits" and not value):
            raise PlanError(f"{path}: {field}={value!r}; expected a list of split names")
    scored = [split for split in plan["select_splits"] + plan["extra_splits"] if is_noise_only(split)]
    if scored:
        raise PlanError(f"{path}: {scored[0]} has no words to score; list it under noise_only instead")
    noise_only = plan.get("noise_only", False)
    plan["noise_only"] = [NOISE_ONLY] if noise_only is True else [] if noise_only is False else noise_only
    if not isinstance(plan["noise_only"], list) or not all(is_noise_only(str(s)) for s in plan["noise_only"]):
        raise PlanError(f"{path}: noise_only={noise_only!r}; expected true, false or a list of "
                        f"{NOISE_ONLY}, {DEV_NOISE_ONLY}")
    # qat_int4: true (every arm) or a list of arms that also get 4-bit QAT and a qat-int4 file, per run
    qat_int4 = plan.get("qat_int4", False)
    if qat_int4 is True:
        qat_int4 = list(plan["arms"])
    if qat_int4 is False:
        qat_int4 = []
    if not isinstance(qat_int4, list) or not set(qat_int4) <= set(plan["arms"]):
        raise PlanError(f"{path}: qat_int4={qat_int4!r}; expected true, false or a list of this plan's arms")
    plan["qat_int4"] = qat_int4
    claims = plan.get("claims")
    if claims is None:
        plan["claims"] = CLAIMS
        return plan
    plan["claims"] = []
    for index, claim in enumerate(claims if isinstance(claims, list) else [None]):
        if not isinstance(claim, dict) or not {"claim", "a", "b", "kind"} <= set(claim) \
                or claim["kind"] not in KINDS or not {claim["a"], claim["b"]} <= set(plan["arms"]):
            raise PlanError(f"{path}: claims[{index}]={claim!r}; expected {{claim: TEXT, a: ARM, b: ARM, kind: "
                            f"{'|'.join(KINDS)}, margin: POINTS (for within)}} with arms of this plan")
        plan["claims"].append((claim["claim"], claim["a"], claim["b"], claim["kind"],
                               float(claim.get("margin", 100 * MARGIN)) / 100))
    return plan


def arm_config(plan: dict, arm: str, seed: int, overrides=()):
    """The run config of one arm and seed: the plan's base config with the arm's overrides."""
    return run_config.load(plan["base"], [*overrides, *plan.get("set", []), *plan["arms"][arm]["set"],
                                          f"name={arm}", f"train.seed={seed}"])


def jobs(plan: dict, only=None) -> list[tuple[str, int]]:
    """(arm, seed) in the order they run: every arm's seed 0 first, so that a study
    stopped early has each arm once before it has any arm three times."""
    arms = plan["arms"]
    order = []
    for seed in range(max(arm["seeds"] for arm in arms.values())):
        order += [(name, seed) for name, arm in arms.items() if seed < arm["seeds"] and (not only or name in only)]
    return order


def run_dir_of(runs, arm: str, seed: int) -> pathlib.Path:
    return pathlib.Path(runs) / arm / f"seed-{seed}"


# ------------------------------------------------------------------------------- runs
def evaluated_splits(plan: dict | None) -> list[str]:
    """The study's splits, then the plan's selection and extra splits (each once)."""
    names = list(SPLITS) + (plan["select_splits"] + plan["extra_splits"] if plan else [])
    return list(dict.fromkeys(names)) + (plan.get("noise_only", []) if plan else [])


def emitted_words(hypotheses: list[str], split) -> dict:
    """Words a model emitted from a split with no words (noise only): count and rate."""
    words = [len(h.split()) for h in hypotheses]
    stretch_minutes = [a.size / 16000 / 60 for a in split.audio]
    minutes = sum(stretch_minutes)
    return {"words_emitted": int(sum(words)), "minutes": minutes, "per_minute": sum(words) / minutes,
            "utterances_with_words": int(sum(w > 0 for w in words)), "utterances": len(words),
            "utterance_words_emitted": words, "utterance_minutes": stretch_minutes,  # for paired comparisons
            "utterance_sources": list(split.sources)}  # noise:<kind>, for comparisons by kind


def _evaluated(path: pathlib.Path, model_factory, config, batch_size: int, splits=SPLITS) -> dict:
    """Evaluations of ``splits``, cached in ``path`` (the format of ``rt-keras evaluate``; the
    noise-only split gets the words emitted instead)."""
    from rt_keras.data.storage import data_directory, load_split
    from rt_keras.training.evaluation import decode_split, evaluate_split

    done = json.loads(path.read_text()) if path.is_file() else {}
    missing = [split for split in splits if split not in done]
    if missing:
        model = model_factory()
        for split in missing:
            data = load_split(data_directory(config), split)
            done[split] = (emitted_words(decode_split(model, data, config.frontend, batch_size), data)
                           if is_noise_only(split) else evaluate_split(model, data, config.frontend, batch_size))
        atomic_write_json(path, done)
    return {split: done[split] for split in splits}


def evaluate_added_splits(plan: dict, run_dir: pathlib.Path, config, progress: bool) -> dict:
    """A plan that added splits after a run finished (a new development split): the run's
    Keras model and qat-int8 file evaluated on them too. The splits other than train do not
    depend on the augmentation and adding one changes no other (tests/data/test_robust_splits.py),
    so the new data directory holds the utterances the run was evaluated on before."""
    from converters.runner import TFLiteModel
    from rt_keras.data.materialise import materialise

    _say(f"{run_dir}: evaluating the splits the plan added")
    materialise(config, progress=progress)
    tflite = run_dir / TFLITE
    return {"keras": _evaluated(run_dir / "evaluation.json", lambda: RunDir(run_dir).load_model(), config, 32,
                                evaluated_splits(plan)),
            "tflite": _evaluated(pathlib.Path(f"{tflite}.evaluation.json"), lambda: TFLiteModel(tflite), config, 1,
                                 evaluated_splits(plan))}


def run_job(plan: dict, arm: str, seed: int, runs, overrides=(), progress: bool = True,
            extra_callbacks=()) -> dict:
    """Train, evaluate, quantise (QAT), convert and evaluate one arm and seed; every
    stage is skipped when its output exists. Returns the run's study_run.json."""
    from converters.runner import TFLiteModel
    from rt_keras.runs.compress import compress_run
    from rt_keras.runs.convert import export_run
    from rt_keras.runs.qat import finetune
    from rt_keras.runs.train import train

    run_dir = run_dir_of(runs, arm, seed)
    result_path = run_dir / "study_run.json"
    if result_path.is_file():
        done = json.loads(result_path.read_text())
        if done.get("converter") == CONVERTER:
            if arm in plan.get("qat_int4", []) and "qat_int4" not in done:  # a plan that added the column later
                done.update(qat_int4_stage(plan, run_dir, arm_config(plan, arm, seed, overrides), progress))
                atomic_write_json(result_path, done)
            if not all(split in done[kind] for split in evaluated_splits(plan) for kind in ("keras", "tflite")):
                done.update(evaluate_added_splits(plan, run_dir, arm_config(plan, arm, seed, overrides), progress))
                atomic_write_json(result_path, done)
            return done
        _say(f"{arm} seed {seed}: converted by an older converter; converting and evaluating again")
        for stale in (run_dir / TFLITE, pathlib.Path(f"{run_dir / TFLITE}.evaluation.json"), result_path):
            stale.unlink(missing_ok=True)
    config = arm_config(plan, arm, seed, overrides)
    compress = plan["arms"][arm].get("compress")
    if compress:
        source = run_dir_of(runs, compress["source"], seed)
        run_job(plan, compress["source"], seed, runs, overrides, progress)
        init_dir = run_dir / "init"
        if not (init_dir / "model.keras").is_file():
            _say(f"{arm} seed {seed}: compressing {source}")
            changes = {k: v for k, v in compress.items() if k != "source"}
            compress_run(source, init_dir, **changes)
        config.train.init_from = str(init_dir.absolute())
    elif plan["arms"][arm].get("init"):  # fine-tuned from another arm's trained model
        run_job(plan, plan["arms"][arm]["init"], seed, runs, overrides, progress)
        config.train.init_from = str(run_dir_of(runs, plan["arms"][arm]["init"], seed).absolute())

    _say(f"{arm} seed {seed}: training into {run_dir}")
    metrics = train(config, run_dir, progress=progress, extra_callbacks=extra_callbacks)
    _say(f"{arm} seed {seed}: evaluating the Keras model")
    keras_eval = _evaluated(run_dir / "evaluation.json", lambda: RunDir(run_dir).load_model(),
                            config, 32, evaluated_splits(plan))
    _say(f"{arm} seed {seed}: quantisation-aware fine-tuning")
    qat = finetune(run_dir, progress=progress)
    tflite = run_dir / TFLITE
    if not tflite.is_file():
        _say(f"{arm} seed {seed}: converting to {tflite.name}")
        export_run(run_dir, "qat-int8", tflite)
    _say(f"{arm} seed {seed}: evaluating {tflite.name}")
    tflite_eval = _evaluated(pathlib.Path(f"{tflite}.evaluation.json"), lambda: TFLiteModel(tflite), config, 1,
                             evaluated_splits(plan))
    result = {
        "arm": arm, "seed": seed, "run_dir": str(run_dir), "converter": CONVERTER, "encoder": config.encoder.to_dict(),
        "encoder_params": metrics["parameters"]["encoder_params"], "total_params": metrics["parameters"]["total"],
        "steps": metrics["epochs"] * metrics["steps_per_epoch"], "validation_wer": metrics["validation_wer"],
        "qat_validation_wer": qat["validation_wer"], "qat_int8_bytes": tflite.stat().st_size,
        "init_from": config.train.init_from and str(pathlib.Path(config.train.init_from).relative_to(
            pathlib.Path(runs).absolute())),
        "keras": keras_eval, "tflite": tflite_eval,
    }
    if arm in plan.get("qat_int4", []):
        result.update(qat_int4_stage(plan, run_dir, config, progress))
    atomic_write_json(result_path, result)
    return result


def qat_int4_stage(plan: dict, run_dir: pathlib.Path, config, progress: bool) -> dict:
    """4-bit QAT of a trained run (``rt-keras qat --weight-bits 4``), its qat-int4 file and
    that file's evaluation; each stage skipped when its output exists."""
    from converters.runner import TFLiteModel
    from rt_keras.runs.convert import export_run
    from rt_keras.runs.qat import finetune

    _say(f"{run_dir}: 4-bit quantisation-aware fine-tuning, qat-int4 file, its evaluation")
    finetune(run_dir, progress=progress, weight_bits=4)
    tflite = run_dir / QAT4_TFLITE
    if not tflite.is_file():
        export_run(run_dir, "qat-int4", tflite)
    evaluation = _evaluated(pathlib.Path(f"{tflite}.evaluation.json"), lambda: TFLiteModel(tflite), config, 1,
                            evaluated_splits(plan))
    return {"qat_int4_bytes": tflite.stat().st_size, "qat_int4": evaluation}


def _say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# ----------------------------------------------------------------------- measurements
def step_seconds(config, steps: int = 30, warmup: int = 5) -> float:
    """Median seconds of one training step (batch of the config's size, the same
    utterances for every arm), measured in this process."""
    import numpy as np

    from rt_keras.backend import keras
    from rt_keras.data.batches import batches
    from rt_keras.data.storage import data_directory, load_split
    from rt_keras.model.asr import build_asr_model
    from rt_keras.model.ctc import CTCLoss

    split = load_split(data_directory(config), "train")
    fixed = list(batches(split, config.train.batch_size, config.frontend, shuffle=True, seed=0).take(3))
    model = build_asr_model(config, len(split.vocabulary))
    model.compile(optimizer=keras.optimizers.Adam(1e-4), loss=CTCLoss())
    times = []
    for step in range(warmup + steps):
        audio, targets = fixed[step % len(fixed)]
        started = time.perf_counter()
        model.train_on_batch(audio, targets)
        if step >= warmup:
            times.append(time.perf_counter() - started)
    return float(np.median(times))


def measure(plan: dict, runs, results: dict, overrides=(), force: bool = False) -> dict:
    """Each arm's seed-0 QAT model converted again to qat-int8 (so every file comes from the
    same converter, whenever its run was made), its bytes, its host latency (one ``rt-keras
    footprint`` run each, back to back) and the training step time, in one pass; cached
    until the set of arms changes."""
    from converters.footprint import footprint
    from rt_keras.runs.convert import export_run

    path = pathlib.Path(runs) / "measurements.json"
    arms = [arm for arm in plan["arms"] if 0 in results.get(arm, {})]
    cached = json.loads(path.read_text()) if path.is_file() else {}
    if not force and cached.get("arms") == arms:
        return measure_int4(runs, cached, path)
    measured = {"arms": arms, "qat_int8_bytes": {}, "footprint": {}, "step_seconds": {}}
    directory = pathlib.Path(runs) / "measure"
    for arm in arms:
        _say(f"measuring {arm}: qat-int8 conversion, footprint and training step time")
        tflite = directory / f"{arm}.tflite"
        export_run(run_dir_of(runs, arm, 0), "qat-int8", tflite)
        measured["qat_int8_bytes"][arm] = tflite.stat().st_size
        report = footprint(tflite, seconds=2.0, runs=30, warmup=5, threads=1)
        runtime = report["runtime"] or {}
        measured["footprint"][arm] = {"status": runtime.get("status"), "latency_ms": runtime.get("latency_ms"),
                                      "device": report["device"]}
        measured["step_seconds"][arm] = step_seconds(arm_config(plan, arm, 0, overrides))
    measured["command"] = "rt-keras footprint RUNS/measure/ARM.tflite --seconds 2 --runs 30 --warmup 5"
    atomic_write_json(path, measured)
    return measure_int4(runs, measured, path)


def measure_int4(runs, measured: dict, path) -> dict:
    """Each arm's seed-0 float model in the int4 mode (ai-edge-quantizer: every weight
    matrix in 4 bits), its bytes and WER on the claim splits; saved after every arm."""
    from rt_keras.runs.convert import export_run
    from rt_keras.runs.evaluate import evaluate_run

    int4 = measured.setdefault("int4", {})
    for arm in measured["arms"]:
        if arm in int4:
            continue
        _say(f"{arm}: int4 conversion and its WER (seed 0)")
        tflite = pathlib.Path(runs) / "measure" / f"{arm}-int4.tflite"
        export_run(run_dir_of(runs, arm, 0), "int4", tflite)
        evaluation, _ = evaluate_run(run_dir_of(runs, arm, 0), list(CLAIM_SPLITS), tflite=tflite)
        int4[arm] = {"bytes": tflite.stat().st_size,
                     **{split: {key: evaluation[split][key] for key in ("wer", "ci95", "errors", "words")}
                        for split in CLAIM_SPLITS}}
        atomic_write_json(path, measured)
    return measured


# -------------------------------------------------------------------------- summaries
def pooled(runs_of_arm: list[dict], kind: str, split: str) -> dict:
    """Mean ± sd over seeds and the pooled interval over all seeds' utterances."""
    evaluations = [run[kind][split] for run in runs_of_arm]
    mean, sd = mean_and_sd([e["wer"] for e in evaluations])
    interval = wer_interval(sum((e["utterance_errors"] for e in evaluations), []),
                            sum((e["utterance_words"] for e in evaluations), []))
    return {"mean": mean, "sd": sd, "seeds": len(evaluations), **interval}


def paired(results: dict, a: str, b: str, kind: str, split: str) -> dict | None:
    """A vs B over the seeds both have evaluated on ``split`` (seed s of A paired with seed s of
    B, same utterances): a split a plan added later counts once both runs of a seed have it."""
    seeds = sorted(seed for seed in set(results.get(a, {})) & set(results.get(b, {}))
                   if split in results[a][seed][kind] and split in results[b][seed][kind])
    if not seeds:
        return None
    errors_a, errors_b, words, per_seed = [], [], [], []
    for seed in seeds:
        ea, eb = results[a][seed][kind][split], results[b][seed][kind][split]
        errors_a += ea["utterance_errors"]
        errors_b += eb["utterance_errors"]
        words += ea["utterance_words"]
        per_seed.append(ea["wer"] - eb["wer"])
    return {**paired_bootstrap(errors_a, errors_b, words), "seeds": seeds, "per_seed": per_seed}


# Each claim: (text, A, B, kind, margin). kind "better": A's WER below B's; "worse": above;
# "within": A at most ``margin`` worse than B; "either": which one is better, if any. A
# plan may list its own (``claims:``); these are the paper's, for benchmarks/study.yaml.
KINDS = ("better", "worse", "within", "either")
CLAIMS = [(text, a, b, kind, MARGIN) for text, a, b, kind in [
    ("RT costs only a slight WER increase over the unshared baseline (at most 1 point)", "rt-k3-r16", "baseline",
     "within"),
    ("RT beats ALBERT-style sharing (same K, no per-layer terms)", "rt-k3-r16", "albert-k3", "better"),
    ("RT beats a dense model of the same encoder size", "rt-k3-r16", "dense-small", "better"),
    ("The diagonal term helps", "rt-k3-r16", "rt-k3-r16-nodiag", "better"),
    ("Sharing adjacent layers beats cyclic sharing", "rt-k3-r16", "rt-k3-r16-cyclic", "better"),
    ("Larger K (6 vs 3) costs WER", "rt-k6-r16", "rt-k3-r16", "worse"),
    ("Smaller R (4 vs 16) costs WER", "rt-k3-r4", "rt-k3-r16", "worse"),
    ("Compressing a trained baseline vs training RT from scratch", "compress-k3-r16", "rt-k3-r16", "either"),
]]


def verdict(kind: str, pair: dict, margin: float = MARGIN) -> tuple[str, str]:
    """(verdict, what would settle it). Reproduced needs the paired interval on the
    claimed side and no seed disagreeing; contradicted needs the interval on the other."""
    low, high = pair["ci95"]
    difference, per_seed, seeds = pair["difference"], pair["per_seed"], len(pair["seeds"])
    half = (high - low) / 2

    def seeds_to_settle(distance: float) -> str:
        if distance <= 0:
            return ("the measured difference is beyond the margin" if kind == "within"
                    else "the measured difference points the other way")
        needed = math.ceil(seeds * (half / distance) ** 2)
        if needed <= seeds:  # the interval already excludes the other side: a seed disagrees
            return (f"a seed disagrees ({', '.join(f'{100 * d:+.2f}' for d in per_seed)}): training noise, "
                    "not test-set size, limits this; more seeds (at least 3 agreeing)")
        return f"~{needed} seeds (now {seeds}) if the difference held"

    if kind == "better":
        if high < 0 and all(d < 0 for d in per_seed):
            return "reproduced", ""
        return ("contradicted", "") if low > 0 else ("inconclusive", seeds_to_settle(-difference))
    if kind == "worse":
        if low > 0 and all(d > 0 for d in per_seed):
            return "reproduced", ""
        return ("contradicted", "") if high < 0 else ("inconclusive", seeds_to_settle(difference))
    if kind == "within":
        if high <= margin and all(d <= margin for d in per_seed):
            return "reproduced", ""
        return ("contradicted", "") if low > margin else ("inconclusive", seeds_to_settle(margin - difference))
    if low > 0 or high < 0:
        return ("A is better" if difference < 0 else "B is better"), ""
    return "no difference resolved", seeds_to_settle(abs(difference))


# ----------------------------------------------------------------------------- report
def _percent(value: float) -> str:
    return f"{100 * value:.2f}"


def _interval(summary: dict) -> str:
    low, high = summary["ci95"]
    return f"{_percent(summary['wer'])}% [{100 * low:.1f}, {100 * high:.1f}]"


def _cell(summary: dict) -> str:
    """One seed: its WER and interval; several: mean ± sd over seeds, then the pooled WER."""
    if summary["seeds"] == 1:
        return _interval(summary)
    return f"{_percent(summary['mean'])} ± {_percent(summary['sd'])}; pooled {_interval(summary)}"


def pareto_plot(plan: dict, results: dict, measured: dict, path: pathlib.Path) -> pathlib.Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, len(CLAIM_SPLITS), figsize=(6 * len(CLAIM_SPLITS), 4.5), sharex=True)
    for axis, split in zip(axes, CLAIM_SPLITS):
        for arm in plan["arms"]:
            if arm not in results:
                continue
            summary = pooled(list(results[arm].values()), "tflite", split)
            size = measured.get("qat_int8_bytes", {}).get(arm, next(iter(results[arm].values()))["qat_int8_bytes"])
            low, high = summary["ci95"]
            axis.errorbar(
                size,
                100 * summary["wer"],
                yerr=[[100 * (summary["wer"] - low)], [100 * (high - summary["wer"])]],
                fmt="o",
                capsize=3,
            )
            axis.annotate(
                f"{arm} ({summary['seeds']})",
                (size, 100 * summary["wer"]),
                textcoords="offset points",
                xytext=(5, 4),
                fontsize=8,
            )
        axis.set_xscale("log")
        axis.set_xlabel("qat-int8 .tflite bytes (log scale)")
        axis.set_ylabel(f"{split} WER %, qat-int8 .tflite (pooled over seeds, 95% CI)")
        axis.grid(True, which="both", alpha=0.3)
    figure.suptitle("Size vs WER of every study arm (number of seeds in brackets)")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp.png")
    figure.savefig(temporary, dpi=110)
    plt.close(figure)
    temporary.replace(path)
    return path


def _relative(path) -> str:
    path = pathlib.Path(path).absolute()
    return path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)


def robustness_table(plan: dict, results: dict) -> list[str]:
    """The plan's selection and extra splits (float Keras and qat-int8), and the words emitted
    from the noise-only split; nothing when the plan has none beyond the study's."""
    splits = [s for s in dict.fromkeys(plan.get("select_splits", []) + plan.get("extra_splits", []))
              if s not in SPLITS]
    if not splits and not plan.get("noise_only"):
        return []
    selected = set(plan.get("select_splits", []))
    kinds = ("Keras", "qat-int8")
    header = [f"{s}{' (selection)' if s in selected else ''} {kind}" for s in splits for kind in kinds]
    header += [f"words/min from {noise} {kind}" for noise in plan.get("noise_only", []) for kind in kinds]
    lines = ["## Development and robustness splits", "",
             "Selection splits decide the claims below; the others only report. WER in % as above.", "",
             "| arm | " + " | ".join(header) + " |", "|---|" + "---|" * len(header)]
    for arm in plan["arms"]:
        if arm not in results:
            continue
        runs_of_arm = list(results[arm].values())
        cells = [_cell(pooled(runs_of_arm, kind, split)) if all(split in run[kind] for run in runs_of_arm) else "—"
                 for split in splits for kind in ("keras", "tflite")]
        for noise in plan.get("noise_only", []):
            for kind in ("keras", "tflite"):
                rates = [run[kind][noise]["per_minute"] for run in runs_of_arm if noise in run[kind]]
                cells.append(f"{statistics.mean(rates):.2f} (seeds: {', '.join(f'{r:.2f}' for r in rates)})"
                             if rates else "—")
        lines.append(f"| {arm} | " + " | ".join(cells) + " |")
    return lines + [""]


def qat_int4_table(plan: dict, results: dict) -> list[str]:
    """Each arm's qat-int4 file against its qat-int8 file (paired over the seeds that have
    both); nothing for a plan without ``qat_int4``."""
    if not plan.get("qat_int4"):
        return []
    lines = ["## 4-bit QAT files (qat-int4)", "",
             "Each run's 4-bit QAT (`rt-keras qat RUN --weight-bits 4`, the qat section's steps and rate) converted "
             "with `rt-keras convert RUN --mode qat-int4` and evaluated like the qat-int8 file; qat-int4 − qat-int8 "
             "is the paired difference over the seeds with both (points, 95% interval, per seed).", "",
             "| arm | seeds | qat-int4 bytes (x qat-int8) | "
             + " | ".join(f"{split} qat-int4 | {split} qat-int4 − qat-int8" for split in CLAIM_SPLITS) + " |",
             "|---|---:|---:|" + "---|---|" * len(CLAIM_SPLITS)]
    for arm in plan["arms"]:
        by_seed = {seed: run for seed, run in results.get(arm, {}).items() if "qat_int4" in run}
        if not by_seed:
            continue
        first = by_seed[min(by_seed)]
        cells = []
        for split in CLAIM_SPLITS:
            errors_4 = sum((run["qat_int4"][split]["utterance_errors"] for run in by_seed.values()), [])
            errors_8 = sum((run["tflite"][split]["utterance_errors"] for run in by_seed.values()), [])
            words = sum((run["tflite"][split]["utterance_words"] for run in by_seed.values()), [])
            pair = paired_bootstrap(errors_4, errors_8, words)
            per_seed = ", ".join(f"{100 * (run['qat_int4'][split]['wer'] - run['tflite'][split]['wer']):+.2f}"
                                 for run in by_seed.values())
            cells += [_cell(pooled(list(by_seed.values()), "qat_int4", split)),
                      f"{100 * pair['difference']:+.2f} [{100 * pair['ci95'][0]:+.2f}, {100 * pair['ci95'][1]:+.2f}]"
                      f" ({per_seed})"]
        lines.append(f"| {arm} | {len(by_seed)} | {first['qat_int4_bytes']:,} "
                     f"({first['qat_int4_bytes'] / first['qat_int8_bytes']:.2f}x) | " + " | ".join(cells) + " |")
    return lines + [""]


def what_was_run(plan: dict, results: dict) -> list[str]:
    """The compute the report rests on, from the runs' own records."""
    lines = ["## What was run", ""]
    for arm in plan["arms"]:
        by_seed = results.get(arm, {})
        if not by_seed:
            continue
        first = by_seed[min(by_seed)]
        config = arm_config(plan, arm, 0)
        how = (
            f"compressed from {plan['arms'][arm]['compress']['source']} of the same seed, then fine-tuned"
            if plan["arms"][arm].get("compress")
            else f"starting from {plan['arms'][arm]['init']}'s trained model of the same seed"
            if plan["arms"][arm].get("init")
            else "from random weights"
        )
        lines.append(
            f"- {arm}: {len(by_seed)} seed(s), {first['steps']:,} training steps of {config.train.batch_size} "
            f"({how}, peak learning rate {config.train.learning_rate:g}), then QAT "
            f"{config.qat.steps_per_epoch * config.qat.epochs} steps of {config.qat.batch_size}"
        )
    minutes = []
    for by_seed in results.values():
        for run in by_seed.values():
            metrics_path = ROOT / run["run_dir"] / "metrics.json"
            metrics = json.loads(metrics_path.read_text()) if metrics_path.is_file() else {}
            if metrics.get("epochs_this_session") == metrics.get("epochs"):  # trained in one sitting
                minutes.append(metrics["train_seconds_this_session"] / 60)
    if minutes:
        lines += [
            "",
            f"Training time of the {len(minutes)} runs trained in one sitting: median "
            f"{statistics.median(minutes):.1f} minutes (range {min(minutes):.1f}–{max(minutes):.1f}; other jobs "
            "shared the machine at times), plus QAT, conversion and evaluation of each.",
        ]
    return lines + ["", *([plan["notes"], ""] if plan.get("notes") else [])]


def markdown(plan: dict, results: dict, measured: dict, command: str, plot_name: str, raw_name: str = "study") -> str:
    arms = [arm for arm in plan["arms"] if arm in results]
    baseline = results.get("baseline", {})
    base_params = baseline[min(baseline)]["encoder_params"] if baseline else None
    base_latency = (measured["footprint"].get("baseline") or {}).get("latency_ms") or {}
    base_step = measured["step_seconds"].get("baseline")
    planned = sum(arm["seeds"] for arm in plan["arms"].values())
    finished = sum(len(by_seed) for by_seed in results.values())
    status = (
        f"**Status: {finished} of {planned} planned runs finished** (the study resumes where it stopped)"
        + ("; the measurement pass (bytes, latency, step time) has not run yet." if not measured.get("arms") else ".")
        if finished < planned or not measured.get("arms")
        else f"All {planned} runs finished."
    )
    stale = sum(run.get("converter") != CONVERTER for by_seed in results.values() for run in by_seed.values())
    if stale:
        status += (
            f" The qat-int8 WER columns of {stale} run(s) come from an older converter (all-int8 attention, "
            "before the lean graph); the study converts and evaluates them again when it resumes."
        )
    lines = [
        status,
        "",
        f"```\n{command}\n```",
        "",
        "Same data (configs/rt.yaml's 10,000 training utterances), schedule and seeds for every arm "
        f"unless the arm says otherwise ({_relative(plan['path'])}). WER in %: mean ± sd over seeds, then the "
        "pooled WER over every seed's utterances with its 95% bootstrap interval. Per-run JSON: "
        f"[{raw_name}/]({raw_name}/).",
        "",
        "| arm | seeds | encoder params (x baseline) | qat-int8 bytes | test_real Keras | test_real qat-int8 "
        "| test_tts_unseen Keras | test_tts_unseen qat-int8 | test_real_perturbed qat-int8 "
        "| latency x baseline | train step x baseline | int4 bytes | test_real int4 (seed 0) "
        "| test_tts_unseen int4 (seed 0) |",
        "|---|---:|---:|---:|---|---|---|---|---|---:|---:|---:|---|---|",
    ]
    for arm in arms:
        runs_of_arm = list(results[arm].values())
        first = runs_of_arm[0]
        ratio = f" ({first['encoder_params'] / base_params:.2f}x)" if base_params else ""
        latency = ((measured["footprint"].get(arm) or {}).get("latency_ms") or {}).get("median")
        latency_ratio = f"{latency / base_latency['median']:.2f}" if latency and base_latency.get("median") else "—"
        step = measured["step_seconds"].get(arm)
        step_ratio = f"{step / base_step:.2f}" if step and base_step else "—"
        planned = plan["arms"][arm]["seeds"]
        seeds = f"{len(runs_of_arm)}" + ("" if len(runs_of_arm) >= planned else f" of {planned}")
        cells = [
            _cell(pooled(runs_of_arm, kind, split))
            for split, kind in (
                ("test_real", "keras"),
                ("test_real", "tflite"),
                ("test_tts_unseen", "keras"),
                ("test_tts_unseen", "tflite"),
                ("test_real_perturbed", "tflite"),
            )
        ]
        size = measured.get("qat_int8_bytes", {}).get(arm, first["qat_int8_bytes"])
        int4 = measured.get("int4", {}).get(arm)
        int4_cells = (
            f"{int4['bytes']:,} | " + " | ".join(_interval(int4[split]) for split in CLAIM_SPLITS)
            if int4
            else "— | — | —"
        )
        lines.append(
            f"| {arm} | {seeds} | {first['encoder_params']:,}{ratio} | {size:,} | "
            + " | ".join(cells)
            + f" | {latency_ratio} | {step_ratio} | {int4_cells} |"
        )
    words = (
        {split: results[arms[0]][min(results[arms[0]])]["keras"][split]["words"] for split in SPLITS} if arms else {}
    )
    lines += [
        "",
        f"Words per test set and seed: {words}.",
        "",
        f"![size vs WER]({plot_name})",
        "",
        "qat-int8 bytes and latency: each arm's seed-0 QAT model converted again in one pass (the same converter "
        "for every arm), median of 30 inferences on 2 s of audio, 1 thread, measured back to back "
        "(`rt-keras footprint`); the WER columns are those of each run's own file. Training step: median of 30 "
        "`train_on_batch` steps on the same three batches of 16 in one process. Ratios from one run on a "
        "shared 2-core machine. int4: each arm's seed-0 float model converted with `rt-keras convert --mode "
        "int4` (every weight matrix in 4 bits, post-training) and evaluated with `rt-keras evaluate --tflite`.",
        "",
        *robustness_table(plan, results),
        *qat_int4_table(plan, results),
        *what_was_run(plan, results),
        f"## {plan.get('claims_heading', 'The claims')}",
        "",
        "Paired bootstrap over the seeds both arms have (seed s of A against seed s of B on the same "
        "utterances), on the float Keras models. The interval covers test-set sampling for these seeds; the "
        "per-seed differences show training noise. *Reproduced* needs the interval on the claimed side "
        '(within the claim\'s margin, for "at most N points") and no seed disagreeing; *contradicted* needs it '
        "on the other side; otherwise *inconclusive*, with the "
        "number of seeds that would settle it if the measured difference held (the interval narrows with "
        "the square root of the seeds).",
        "",
        "| claim | A − B | split | A − B WER [95% CI] | per seed | verdict | to settle |",
        "|---|---|---|---|---|---|---|",
    ]
    for text, a, b, kind, margin in plan["claims"]:
        for split in plan.get("select_splits", CLAIM_SPLITS):
            pair = paired(results, a, b, "keras", split)
            if pair is None:
                lines.append(f"| {text} | {a} − {b} | {split} | not run yet | | | |")
                continue
            decided, settle = verdict(kind, pair, margin)
            seeds = ", ".join(f"{100 * d:+.2f}" for d in pair["per_seed"])
            lines.append(
                f"| {text} | {a} − {b} | {split} | {100 * pair['difference']:+.2f} "
                f"[{100 * pair['ci95'][0]:+.2f}, {100 * pair['ci95'][1]:+.2f}] ({pair['words']:,} words) | "
                f"{seeds} | **{decided}** | {settle} |"
            )
    return "\n".join(lines)


def collect(plan: dict, runs) -> dict:
    """{arm: {seed: study_run.json}} of the finished runs."""
    results = {}
    for arm, arm_plan in plan["arms"].items():
        for seed in range(arm_plan["seeds"]):
            path = run_dir_of(runs, arm, seed) / "study_run.json"
            if path.is_file():
                results.setdefault(arm, {})[seed] = json.loads(path.read_text())
    return results


def write_report(plan: dict, runs, doc, results: dict, measured: dict, command: str) -> None:
    doc = pathlib.Path(doc)
    raw = doc.parent / doc.stem  # docs/study/ next to docs/study.md
    for arm, by_seed in results.items():
        for seed in by_seed:
            target = raw / arm / f"seed-{seed}.json"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(run_dir_of(runs, arm, seed) / "study_run.json", target)
    if measured.get("arms"):
        shutil.copyfile(pathlib.Path(runs) / "measurements.json", raw / "measurements.json")
    plot = pareto_plot(plan, results, measured, raw / "pareto.png") if results else None
    body = markdown(plan, results, measured, command, plot.relative_to(doc.parent).as_posix() if plot else "", raw.name)
    atomic_write_text(doc, f"# {plan.get('title', 'Trade-offs with error bars')}\n\n" + body + "\n")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--plan", default=str(ROOT / "benchmarks" / "study.yaml"), help="arms and seeds")
    parser.add_argument("--runs", default="runs/study", help="parent of the run directories (resumable)")
    parser.add_argument(
        "--only", nargs="+", metavar="ARM", help="run only these arms (the report has every finished run)"
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SECTION.FIELD=VALUE",
        help="override a base-config value for every arm (e.g. data.fsdd_dir=...); the plan's own `set` and "
             "each arm's overrides come after it, so a field they set (the plans pin train.epochs) keeps their value",
    )
    parser.add_argument("--report-only", action="store_true", help="train nothing: measure and report finished runs")
    parser.add_argument("--no-measure", action="store_true", help="skip the latency and step-time pass")
    parser.add_argument("--doc", default=str(ROOT / "docs" / "study.md"), help="where the report goes")
    args = parser.parse_args(argv)
    try:
        plan = load_plan(args.plan)
    except (OSError, yaml.YAMLError, PlanError) as error:
        parser.error(str(error))
    unknown = sorted(set(args.only or []) - set(plan["arms"]))
    if unknown:
        parser.error(f"--only: unknown arm(s) {unknown}; the plan has: {', '.join(plan['arms'])}")
    todo = [] if args.report_only else jobs(plan, args.only)
    for number, (arm, seed) in enumerate(todo, 1):
        _say(f"== run {number}/{len(todo)}: {arm} seed {seed}")
        result = run_job(plan, arm, seed, args.runs, args.set, progress=sys.stdout.isatty())
        _say(
            f"   {arm} seed {seed}: test_real {format_wer(result['keras']['test_real'])} (Keras), "
            f"{format_wer(result['tflite']['test_real'])} (qat-int8)"
        )
    results = collect(plan, args.runs)
    measured = (
        {"arms": [], "footprint": {}, "step_seconds": {}}
        if args.no_measure
        else measure(plan, args.runs, results, args.set)
    )
    command = (
        f"python -m benchmarks.study --runs {args.runs}"
        + (f" --plan {args.plan}" if pathlib.Path(args.plan).resolve() != ROOT / "benchmarks" / "study.yaml" else "")
        + (f" --doc {args.doc}" if pathlib.Path(args.doc).resolve() != ROOT / "docs" / "study.md" else "")
        + (" --no-measure" if args.no_measure else "")
        + (f" --only {' '.join(args.only)}" if args.only else "")
    )
    write_report(plan, args.runs, args.doc, results, measured, command)
    print(f"wrote {args.doc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
