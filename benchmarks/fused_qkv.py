"""Would fusing Q, K and V close rt's latency gap at the paper's size? (issue 18)

Q, K and V read the same normalised input h, so one layer's three projections can run
as one of each kind of operator: the group's W_q|W_k|W_v as one shared Dense (still
stored once), A_q|A_k|A_v as one Dense of rank 3R, B_q, B_k, B_v as one block-diagonal
Dense, and the three diagonals as one DiagonalScale over [h, h, h]. That removes 4 of
rt's 12 added FULLY_CONNECTED per layer, 4 of its 12 ADDs and 2 of its 6 MULs, and
packs one rank-48 A instead of three rank-16 ones (XNNPACK pads N to its tile width).
The baseline is fused the same way, so the ratio compares like with like.

``fused_qkv_model`` rebuilds a model of `build_asr_model` around the original's own
layers (everything but Q, K and V is the same layer object), so it computes the same
function; tests/test_fused_qkv.py checks that. This is a measured experiment, not a
conversion option: it is kept out of `rt-keras convert` unless it pays.

    python -m benchmarks.fused_qkv --runs runs/paper_size [--results docs/results.md]
"""

from __future__ import annotations

import argparse
import pathlib
import sys

import numpy as np

from benchmarks.paper_size import VARIANTS, build, kernel_profile, measure, operator_counts
from benchmarks.results_file import publish
from converters import naming
from rt_keras.backend import keras, tf
from rt_keras.core.contracts import FRONTEND_LAYER
from rt_keras.layers import DiagonalScale

ROOT = pathlib.Path(__file__).resolve().parents[1]

QKV = ("attn_q", "attn_k", "attn_v")
SUBSAMPLING = ("subsample_expand", "subsample_conv1", "subsample_conv2", "subsample_flatten", "subsample_proj",
               "subsample_dropout", "posenc")


def _reuse_projection(model, h, config, layer: int, matrix: str):
    """``residual_projection``'s wiring, calling ``model``'s own layers."""
    names = [n.name for n in model.layers]
    get = model.get_layer
    terms = [get(naming.shared(config.group_of(layer), matrix))(h)]
    if naming.low_rank_a(layer, matrix) in names:
        terms.append(get(naming.low_rank_b(layer, matrix))(get(naming.low_rank_a(layer, matrix))(h)))
    if naming.diagonal(layer, matrix) in names:
        terms.append(get(naming.diagonal(layer, matrix))(h))
    y = terms[0] if len(terms) == 1 else get(naming.block(layer, f"{matrix}_sum"))(terms)
    return get(naming.bias(layer, matrix))(y) if naming.bias(layer, matrix) in names else y


def _fused_qkv(model, h, config, layer: int, fused_shared: dict):
    get = model.get_layer
    d, rank = config.d_model, config.ranks["attn_q"]
    group = config.group_of(layer)
    originals = [get(naming.shared(group, m)) for m in QKV]
    if group not in fused_shared:
        dense = keras.layers.Dense(3 * d, use_bias=originals[0].use_bias, name=naming.shared(group, "attn_qkv"))
        dense.build((None, None, d))
        dense.set_weights([np.concatenate(w, axis=-1) for w in zip(*(o.get_weights() for o in originals))])
        fused_shared[group] = dense
    terms = [fused_shared[group](h)]
    if rank:
        a_layers = [get(naming.low_rank_a(layer, m)) for m in QKV]
        a = keras.layers.Dense(3 * rank, use_bias=False, name=naming.low_rank_a(layer, "attn_qkv"))
        a.build((None, None, d))
        a.set_weights([np.concatenate([x.get_weights()[0] for x in a_layers], axis=-1)])
        b_layers = [get(naming.low_rank_b(layer, m)) for m in QKV]
        kernel = np.zeros((3 * rank, 3 * d), np.float32)
        for i, b in enumerate(b_layers):
            kernel[i * rank:(i + 1) * rank, i * d:(i + 1) * d] = b.get_weights()[0]
        b = keras.layers.Dense(3 * d, use_bias=b_layers[0].use_bias, name=naming.low_rank_b(layer, "attn_qkv"))
        b.build((None, None, 3 * rank))
        b.set_weights([kernel] + ([np.concatenate([x.get_weights()[1] for x in b_layers])]
                                  if b.use_bias else []))
        terms.append(b(a(h)))
    if config.diagonal_size("attn_q"):
        diagonals = [get(naming.diagonal(layer, m)) for m in QKV]
        scale = DiagonalScale(3 * d, use_bias=diagonals[0].use_bias, name=naming.diagonal(layer, "attn_qkv"))
        tiled = keras.layers.Concatenate(name=naming.block(layer, "attn_qkv_input"))([h, h, h])
        scale.build((None, None, 3 * d))
        scale.set_weights([np.concatenate(w) for w in zip(*(x.get_weights() for x in diagonals))])
        terms.append(scale(tiled))
    y = terms[0] if len(terms) == 1 else keras.layers.Add(name=naming.block(layer, "attn_qkv_sum"))(terms)
    return keras.layers.Lambda(lambda t: tf.split(t, 3, axis=-1), name=naming.block(layer, "attn_qkv_split"))(y)


def fused_qkv_model(model, run_config) -> keras.Model:
    """``model`` (``build_asr_model(run_config, ...)``, full attention, no convolution
    module) with Q, K and V fused as the module docstring says."""
    config = run_config.encoder
    if config.chunk_frames or config.conv_module:
        raise ValueError("fused_qkv_model rebuilds the full-attention encoder without the convolution module")
    for matrix in QKV:
        if naming.bias(0, matrix) in [n.name for n in model.layers]:
            raise ValueError("fused_qkv_model: ALBERT-style per-layer biases after the shared matrix are not handled")
    get = model.get_layer
    audio = keras.Input((None,), name="audio")
    x = get("specaugment")(get(FRONTEND_LAYER)(audio))
    for name in SUBSAMPLING:
        x = get(name)(x)
    fused_shared: dict = {}
    for layer in range(config.num_layers):
        block = lambda part: naming.block(layer, part)  # noqa: E731
        h = get(block("attn_norm"))(x)
        h = get(block("attention"))(list(_fused_qkv(model, h, config, layer, fused_shared)))
        h = get(block("attn_dropout"))(_reuse_projection(model, h, config, layer, "attn_o"))
        x = get(block("attn_residual"))([x, h])
        h = get(block("ffn_norm"))(x)
        h = get(block("ffn_activation"))(_reuse_projection(model, h, config, layer, "ffn_in"))
        h = _reuse_projection(model, get(block("ffn_inner_dropout"))(h), config, layer, "ffn_out")
        x = get(block("ffn_residual"))([x, get(block("ffn_dropout"))(h)])
    log_probs = get("head_log_probs")(get("head_logits")(get(naming.FINAL_NORM)(x)))
    return keras.Model(audio, log_probs, name=f"{model.name}-fused-qkv")


def build_fused(name: str, path: pathlib.Path, calibration_run: pathlib.Path) -> None:
    """The paper-size ``name`` model (weights as benchmarks/paper_size.py builds them),
    fused and converted in dynamic mode to ``path``."""
    from benchmarks.conversion_sizes import paper_model
    from converters.files import atomic_write_bytes
    from rt_keras.core import run_config
    from rt_keras.core.vocabulary import DIGITS
    from rt_keras.export.keras_to_tflite import audio_signature, convert
    from rt_keras.export.package import package

    calibration = run_config.load_resolved(calibration_run / "config.yaml")
    model, config = paper_model(name, VARIANTS[name], calibration.frontend, np.random.default_rng(0))
    shipped, _ = package(convert(fused_qkv_model(model, config), "dynamic", audio_signature(None)), config,
                         "dynamic", vocabulary=DIGITS)
    atomic_write_bytes(path, shipped)


def main(argv=None) -> int:
    from converters.files import atomic_write_json

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", default="runs/paper_size", help="where benchmarks/paper_size.py keeps its files")
    parser.add_argument("--calibration-run", default="runs/rt", help="a trained run whose front-end the models use")
    parser.add_argument("--seconds", type=float, nargs="+", default=[2.0, 8.0], help="audio lengths to time")
    parser.add_argument("--timed-runs", type=int, default=30)
    parser.add_argument("--results", metavar="FILE", help="also write the tables into this markdown file")
    args = parser.parse_args(argv)
    out, calibration = pathlib.Path(args.runs), pathlib.Path(args.calibration_run)
    out.mkdir(parents=True, exist_ok=True)
    files = {}
    for name in ("baseline", "rt"):
        for fused in (False, True):
            path = out / f"{name}{'-fused-qkv' if fused else ''}-dynamic.tflite"
            if not path.is_file():
                print(f"building {path.name} ...", flush=True)
                (build_fused(name, path, calibration) if fused else build(name, "dynamic", path, calibration))
            files[name, fused] = path
    reports = {}
    for attempt in (1, 2):  # two passes back to back: the machine is shared and noisy
        for seconds in args.seconds:
            for cache in (False, True):
                for key, path in files.items():
                    report = measure(path, seconds, args.timed_runs, cache)
                    reports[key + (seconds, cache, attempt)] = report["runtime"]["latency_ms"]["median"]
                    print(f"pass {attempt} {seconds} s {'cache' if cache else 'plain'} {path.name}: "
                          f"{reports[key + (seconds, cache, attempt)]:.2f} ms", flush=True)
                    if seconds == args.seconds[0] and attempt == 2:
                        reports[key + ("peak", cache)] = report["runtime"]["memory_kb"]["after_runs"]["hwm_kb"] / 1024
                        reports[key + ("weights",)] = report["weights"]["unique_bytes"]
    profile = {f"{name}{'-fused-qkv' if fused else ''}": kernel_profile(path, out / path.stem, args.seconds[0], 200)
               for (name, fused), path in files.items() if name == "rt" or not fused}
    atomic_write_json(out / "fused_qkv.json", {"reports": {"|".join(map(str, k)): v for k, v in reports.items()},
                                               "profile": profile})
    publish(report_text(args, files, reports, profile), args.results, "fused-qkv",
            "Paper-size rt: fusing Q, K and V")
    return 0


def report_text(args, files, reports, profile) -> str:
    command = (f"python -m benchmarks.fused_qkv --runs {args.runs} --seconds {' '.join(map(str, args.seconds))} "
               f"--timed-runs {args.timed_runs}")
    lines = [f"Command: `{command}` (dynamic mode, 1 thread, median of {args.timed_runs} runs, each file in a fresh "
             "process, two passes back to back; *plain*: the default Interpreter, *cache*: `--weight-cache`).", "",
             "| model | operators | unique weight bytes | runtime | " +
             " | ".join(f"median ms at {s:g} s (pass 1 / 2)" for s in args.seconds) + " | peak RSS MB |",
             "|---|---:|---:|---|" + "---|" * len(args.seconds) + "---:|"]
    for (name, fused), path in files.items():
        label = f"{name}{' fused QKV' if fused else ''}"
        for cache in (False, True):
            runtime = "cache" if cache else "plain"
            timings = " | ".join(f"{reports[name, fused, s, cache, 1]:.2f} / {reports[name, fused, s, cache, 2]:.2f}"
                                 for s in args.seconds)
            lines.append(f"| {label} | {sum(operator_counts(path).values())} | {reports[name, fused, 'weights']:,} | "
                         f"{runtime} | {timings} | {reports[name, fused, 'peak', cache]:.1f} |")
    lines += ["", "rt / baseline, each fused or not like the other (pass 1 / pass 2), and the share of rt's weight "
                  "saving kept in peak RSS:", "",
              "| graph | runtime | " + " | ".join(f"latency at {s:g} s" for s in args.seconds) + " | RAM kept |",
              "|---|---|" + "---|" * len(args.seconds) + "---:|"]
    for fused in (False, True):
        for cache in (False, True):
            ratios = " | ".join(
                " / ".join(
                    f"{reports['rt', fused, s, cache, a] / reports['baseline', fused, s, cache, a]:.3f}" for a in (1, 2)
                )
                for s in args.seconds
            )
            saved = (reports["baseline", fused, "weights"] - reports["rt", fused, "weights"]) / 2**20
            kept = (reports["baseline", fused, "peak", cache] - reports["rt", fused, "peak", cache]) / saved
            lines.append(
                f"| {'fused QKV' if fused else 'as converted'} | {'cache' if cache else 'plain'} | {ratios} | "
                f"{100 * kept:.0f}% |"
            )
    if profile and all(profile.values()):
        names = list(profile)
        kinds = sorted(
            set().union(*profile.values()), key=lambda k: -(profile["rt"].get(k, 0) - profile["baseline"].get(k, 0))
        )
        lines += [
            "",
            f"Where the time goes at {args.seconds[0]:g} s (weight cache on; `perf record` of the footprint "
            "probe, 200 runs, ms per inference by the operator kind XNNPACK's kernels belong to):",
            "",
            "| operator kind | " + " | ".join(names) + " |",
            "|---|" + "---:|" * len(names),
        ]
        for kind in kinds:
            lines.append(f"| {kind} | " + " | ".join(f"{profile[n].get(kind, 0.0):.2f}" for n in names) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
