"""A voice-command data set that is not digits, as manifests: 20 phrases spoken by the
synthetic voices the project installs, written as 16 kHz WAVs with JSON Lines and CSV
manifests that ``configs/commands.yaml`` trains on (``data.source: manifest``).

    python -m benchmarks.commands_data --out .cache/commands
    rt-keras pipeline --config configs/commands.yaml --out runs/commands

Splits by voice, so every test voice is unheard in training:
  train          espeak-ng voices of the training variants; flite/festival voices at three
                 tempos and two vocal-tract/pitch perturbed copies of each;
  validation     (CSV) other espeak-ng voices of the training variants;
  test_synthetic held-out espeak-ng variants (as in the digit task);
  test_tts_unseen the held-out flite and festival voices of a woman (slt) at three tempos.
Each utterance is a phrase with a little silence and background noise around it; the
training copies are augmented (noise, reverberation, speed, gain, telephone band) with
the digit task's settings. Deterministic for a given --seed.
"""

from __future__ import annotations

import argparse
import csv
import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]

PHRASES = ("turn on the light", "turn off the light", "stop", "play", "pause", "next song", "previous song",
           "volume up", "volume down", "what time is it", "set a timer", "cancel", "yes", "no",
           "open the door", "close the door", "call mom", "read my messages", "start recording", "go back")
TRAIN_TTS = ("flite:kal", "flite:awb", "flite:rms", "festival:kal_diphone", "festival:ked_diphone")
TEST_TTS = ("flite:slt", "festival:cmu_us_slt_arctic_hts")


def _utterance(clip, rng, augmented: bool):
    import numpy as np

    from rt_keras.core.contracts import float_to_pcm, pcm_to_float
    from rt_keras.core.run_config import AugmentConfig
    from rt_keras.data.augment import augment

    audio = pcm_to_float(clip)
    audio = np.concatenate([np.zeros(int(rng.uniform(0.05, 0.3) * 16000), np.float32), audio,
                            np.zeros(int(rng.uniform(0.05, 0.3) * 16000), np.float32)])
    audio += rng.normal(scale=1e-4, size=audio.shape).astype(np.float32)
    return float_to_pcm(augment(audio, rng, AugmentConfig()) if augmented else audio)


def write_split(out: pathlib.Path, name: str, spoken: dict, seed: int, augmented: bool, fmt: str = "jsonl"):
    """``spoken``: {voice name: [clip per phrase]} -> WAVs under ``out/name/`` and the
    manifest ``out/name.{fmt}``. Returns the manifest path."""
    import numpy as np
    import soundfile

    from converters.files import atomic_path

    rows = []
    for v, (voice, clips) in enumerate(sorted(spoken.items())):
        for p, (phrase, clip) in enumerate(zip(PHRASES, clips)):
            if not clip.size:
                continue
            rng = np.random.default_rng([seed, v, p, len(name)])
            path = out / name / f"{v:03d}-{p:02d}.wav"
            path.parent.mkdir(parents=True, exist_ok=True)
            soundfile.write(path, _utterance(clip, rng, augmented), 16000, subtype="PCM_16")
            rows.append({"audio": str(path.relative_to(out)), "text": phrase, "speaker": voice})
    manifest = out / f"{name}.{fmt}"
    with atomic_path(manifest) as tmp:
        with open(tmp, "w", newline="") as f:
            if fmt == "csv":
                writer = csv.DictWriter(f, fieldnames=["audio", "text", "speaker"])
                writer.writeheader()
                writer.writerows(rows)
            else:
                f.writelines(json.dumps(row) + "\n" for row in rows)
    return manifest, len(rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=".cache/commands", help="directory for the WAVs and manifests")
    parser.add_argument("--voices", type=int, default=48, help="espeak-ng training voices (default 48)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    import numpy as np

    from rt_keras.core.contracts import float_to_pcm, pcm_to_float
    from rt_keras.data import espeak_voices, pseudo_speakers, tts_voices

    out = pathlib.Path(args.out)
    espeak = {
        "train": espeak_voices.sample_voices(args.voices, held_out=False, seed=args.seed + 100),
        "validation": espeak_voices.sample_voices(max(args.voices // 6, 4), held_out=False, seed=args.seed + 101),
        "test_synthetic": espeak_voices.sample_voices(max(args.voices // 4, 4), held_out=True, seed=args.seed + 102),
    }
    spoken = {name: {v.name: clips for v, clips in zip(vs, espeak_voices.synthesize_clips(vs, PHRASES))}
              for name, vs in espeak.items()}
    rng = np.random.default_rng(args.seed)
    for name in TRAIN_TTS:
        for stretch in (0.85, 1.0, 1.25):
            clips = [float_to_pcm(espeak_voices.trim(c)) for c in tts_voices.synthesize(name, PHRASES, stretch)]
            spoken["train"][f"{name}@x{stretch:g}"] = clips
            base = np.nanmedian([pseudo_speakers.median_pitch(pcm_to_float(c)) for c in clips])
            for perturbation in pseudo_speakers.sample_perturbations(
                    2, rng, base_pitch_hz=float(base) if np.isfinite(base) else 120.0):
                spoken["train"][f"{name}@x{stretch:g}~{perturbation.tag}"] = [
                    float_to_pcm(pseudo_speakers.change_voice(pcm_to_float(c), perturbation)) for c in clips]
    spoken["test_tts_unseen"] = {f"{name}@x{stretch:g}": [float_to_pcm(espeak_voices.trim(c))
                                                          for c in tts_voices.synthesize(name, PHRASES, stretch)]
                                 for name in TEST_TTS for stretch in (0.85, 1.0, 1.25)}
    for index, (name, by_voice) in enumerate(spoken.items()):
        manifest, count = write_split(out, name, by_voice, args.seed + index, augmented=name == "train",
                                      fmt="csv" if name == "validation" else "jsonl")
        print(f"{manifest}: {count} utterances, {len(by_voice)} voices")
    return 0


if __name__ == "__main__":
    sys.exit(main())
