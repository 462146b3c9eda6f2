"""Medical-term density (the narration cue of the text stage) of the narration dev set, per group, at the configured
threshold: whole texts and 150-word windows (about a minute of narration).

    PYTHONPATH=src python devsets/speech/narration/score.py [--speech results/speech/s*.jsonl ...]

--speech adds ASR records (results/speech/*.jsonl) as one group per file pattern given.
"""

from __future__ import annotations

import argparse
import glob
import json
import statistics
from pathlib import Path

from lxml import etree

from mednarratives import settings
from mednarratives.text.narration import narration_score

HERE = Path(__file__).resolve().parent
ARTICLES = HERE.parents[1] / "articles" / "captions"
WINDOW = 150


def article_paragraphs(path: Path) -> str:
    """Body and abstract paragraphs (> 20 words) of a JATS article."""
    tree = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True))
    paras = (" ".join("".join(p.itertext()).split()) for p in tree.iter("{*}p", "p"))
    return "\n".join(p for p in paras if len(p.split()) > 20)


def groups(speech: list[str]) -> dict[str, list[tuple[str, str]]]:
    out = {
        "medical: primock57 doctor (spoken)": [(p.name, p.read_text()) for p in sorted((HERE / "medical" / "primock57").glob("*.txt"))],
        "medical: PMC case reports": [(p.name, article_paragraphs(p)) for p in sorted(ARTICLES.glob("hindawi_cr*.xml"))],
        "mixed: PMC articles, all": [(p.name, article_paragraphs(p)) for p in sorted(ARTICLES.glob("*.xml"))],
        "non-medical: package docs": [(p.name, p.read_text()) for p in sorted((HERE / "nonmedical" / "packages").glob("*.txt"))],
        "non-medical: python stdlib": [(p.name, p.read_text()) for p in sorted((HERE / "nonmedical" / "stdlib").glob("*.txt"))],
    }
    for pattern in speech:
        out[f"asr: {pattern}"] = [(r["video_id"], " ".join(w["word"] for w in r["words"]))
                                  for f in sorted(glob.glob(pattern)) for r in map(json.loads, open(f)) if r["words"]]
    return out


def windows(text: str) -> list[str]:
    words = text.split()
    return [" ".join(words[i:i + WINDOW]) for i in range(0, max(1, len(words) - WINDOW // 2), WINDOW)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--speech", nargs="*", default=[], help="glob(s) of ASR record files")
    args = ap.parse_args()
    p = settings.merged(None, "text")["narration"]
    print(f"min_density {p['min_density']}, min_words {p['min_words']} (texts with fewer content words are not judged)")
    print(f"{'group':44s} {'level':7s} {'n':>5s} {'min':>6s} {'median':>6s} {'max':>6s} {'kept':>5s}")
    for name, items in groups(args.speech).items():
        for level, texts in (("text", [t for _, t in items]), (f"w{WINDOW}", [w for _, t in items for w in windows(t)])):
            scores = [narration_score(t) for t in texts]
            judged = [s["density"] for s in scores if s["content_words"] >= p["min_words"]]
            if not judged:
                continue
            kept = sum(d >= p["min_density"] for d in judged) / len(judged)
            print(f"{name[:44]:44s} {level:7s} {len(judged):5d} {min(judged):6.3f} {statistics.median(judged):6.3f} "
                  f"{max(judged):6.3f} {kept:5.2f}")


if __name__ == "__main__":
    main()
