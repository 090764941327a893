"""`rt-keras data`: materialise the splits of a run config once."""

from __future__ import annotations

import json

from rt_keras.cli.arguments import add_config_arguments, load_run_config


def register(subparsers) -> None:
    p = subparsers.add_parser("data", help="materialise the splits into the cache (once): digits, or your manifests",
                       description="data.source=digits (default): compose connected-digit utterances from FSDD "
                                   "speakers, their vocal-tract/pitch-perturbed pseudo-speakers, espeak-ng voices and "
                                   "flite/festival voices, and augment the training split. data.source=manifest: read "
                                   "your JSON Lines / CSV manifests (docs/own-data.md). Either way: build the "
                                   "vocabulary (data.vocabulary: word, char, subword) and write every split with a "
                                   "manifest (sources, skipped rows, a hash of every split) to data.cache_dir, as .npz "
                                   "or TFRecord shards (data.storage). A no-op when already materialised.")
    add_config_arguments(p)
    p.add_argument("--force", action="store_true", help="generate again even if cached")
    p.add_argument("--json", action="store_true", help="print the manifest as JSON")
    p.set_defaults(run=run)


def run(args) -> int:
    from rt_keras.data.materialise import materialise
    from rt_keras.data.storage import read_manifest

    config = load_run_config(args)
    directory = materialise(config, progress=not args.json, force=args.force)
    data = {"directory": str(directory), **read_manifest(directory)}
    print(json.dumps(data, indent=2) if args.json else format_data(data))
    return 0


def format_data(data: dict) -> str:
    lines = [f"data in {data['directory']}"]
    for name, split in data["splits"].items():
        lines.append(f"  {name:<20}{split['utterances']:>6} utterances {60 * split['hours']:>7.1f} min "
                     f"{split['sources']:>5} speakers/voices"
                     + (f", {split['noise_kinds']} noise kinds" if split.get("noise_kinds") else ""))
        if split.get("unspellable"):
            lines.append(f"  {'':<20}{split['unspellable']:>6} of them use tokens outside the vocabulary")
    tokens = data["vocabulary"]
    lines.append(f"  vocabulary: {data.get('vocabulary_kind', 'word')}, {len(tokens) - 1} tokens and the blank "
                 f"({' '.join(tokens[1:13])}{' ...' if len(tokens) > 13 else ''})")
    if data["skipped"]["count"]:
        lines.append(f"  skipped {data['skipped']['count']} recordings or rows (listed in manifest.json, "
                     f"e.g. {data['skipped']['files'][0]})")
    return "\n".join(lines)
