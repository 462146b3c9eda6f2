"""The dev set's texts read aloud by espeak-ng (synthetic voice, real text) through the speech stage (Whisper,
medical-term correction, rescoring) and the text stage's narration cue: does ASR, or the medical corrector, move a
text across the line?

    PYTHONPATH=src python devsets/speech/narration/read_aloud.py --cache-dir results/cache/models

Prints one JSON line per text: density of the text's first 170 words, density of their transcript, the text
stage's ledger decision and the corrections made. About 1 min of audio per text; ~15 min CPU for all 16 (1 core).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import tempfile
from pathlib import Path

import yaml

from mednarratives.speech.stage import transcribe_video
from mednarratives.text.narration import narration_score
from mednarratives.text.stage import extract_video
from score import ARTICLES, HERE, article_paragraphs

TEXTS = ([("non-medical", HERE / "nonmedical" / "packages" / f"{n}.txt") for n in ("torch", "timm", "webdataset", "pandas", "rich")]
         + [("non-medical", HERE / "nonmedical" / "stdlib" / f"{n}.txt") for n in ("threading", "sqlite3", "tkinter")]
         + [("medical", p) for p in sorted(ARTICLES.glob("hindawi_cr*.xml"))[::5]]
         + [("medical", HERE / "medical" / "primock57" / f"{n}_doctor.txt") for n in ("day1_consultation01", "day3_consultation05")])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default=str(HERE.parents[2] / "config" / "config.yaml"))
    ap.add_argument("--cache-dir", required=True, help="speech.cache_dir of a run (the assembled Whisper model)")
    ap.add_argument("--words", type=int, default=170)
    args = ap.parse_args()
    config = yaml.safe_load(open(args.config))
    speech_cfg = {**config["speech"], "cache_dir": args.cache_dir}
    text_cfg = config["text"]
    with tempfile.TemporaryDirectory() as tmp:
        for group, path in TEXTS:
            raw = article_paragraphs(path) if path.suffix == ".xml" else path.read_text()
            words = re.sub(r"[^A-Za-z0-9,.?!' ]+", " ", raw).split()[:args.words]  # what a voice can say
            text = Path(tmp) / "text.txt"
            text.write_text("\n".join(re.split(r"(?<=[.!?])\s+", " ".join(words))) + "\n")
            wav = Path(tmp) / "read.wav"
            subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(wav), "-f", str(text)], check=True)
            rec, _ = transcribe_video(path.stem, str(wav), speech_cfg, 1)
            text, rows = extract_video(rec, text_cfg)
            print(json.dumps({"group": group, "text": path.name, "text_density": narration_score(" ".join(words))["density"],
                              "asr_density": (text.get("narration") or {}).get("density"),
                              "content_words": (text.get("narration") or {}).get("content_words"),
                              "decision": rows[0]["decision"] if rows else "dropped (speech)",
                              "reason": rows[0]["reason"] if rows else "",
                              "corrections": [[c["word"], c["replacement"]] for c in rec["corrections"]]}), flush=True)


if __name__ == "__main__":
    main()
