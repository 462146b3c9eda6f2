"""Parse rate and extraction quality: mednarratives.articles.jats vs pubmed_parser (the peer library).

    python3 benchmarks/bench_jats_parse.py [FOLDER_OR_FILES ...] [--rounds 100]
    python3 benchmarks/bench_jats_parse.py [FOLDER_OR_FILES ...] --dump DIR [--demo 12]  # parse records, no timing

--dump writes each file's parse record (Article.to_dict() as JSON, or the JatsParseError) to DIR/<name>.json,
with --demo N also those of N demo-corpus articles per seed (0, 7, 20250107; generated in memory): run it before
and after a change to the parser and compare the folders byte for byte (`diff -r`).

Default input: the 32 real JATS files of /work/shared/realdata/jats (9), devsets/articles/captions (17) and
devsets/articles/speed (6). Every parser runs over the same files
in --rounds interleaved rounds (one pass per parser and round); the fastest round of each parser gives its rate
(the round least disturbed by other processes on a shared machine), the median round is printed too. Rates are
files per CPU second of this process (process_time: on a loaded machine wall time mostly measures the other
processes), file reading included.

Floor: lxml_parse        etree.parse of the whole file with the same safe parser options (the bare XML parse
                          any extraction needs; ours parses less, its Python extraction is the rest).
Peer workloads (pubmed_parser re-parses the file in each call):
  pp_captions        parse_pubmed_caption                          (figure captions only)
  pp_fig+paragraphs  parse_pubmed_caption + parse_pubmed_paragraph (captions + paragraphs with xref ids)
  pp_same_fields     parse_pubmed_xml + the two above              (+ title/doi/pmid: the fields ours returns)
Ours (parse_jats) returns in one call: metadata + licence, figures (full caption, own graphic, label number,
fig-group), and the citing SENTENCES of each figure with panels, from xrefs and plain-text mentions; no
pubmed_parser workload produces sentences or plain-text mentions at all.

Extraction check (each file once), against an independent XPath reading of the XML:
  full caption   the parser's caption holds every word of the <caption> element's string value
  graphic        equals the figure's own <graphic xlink:href> (direct or inside <alternatives>)
  cited          the figure is cited at least once (ours: a sentence; pubmed_parser: a paragraph whose
                 reference_ids contain the figure id)
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import sys
import time
from pathlib import Path

from lxml import etree

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
from mednarratives.articles.jats import SAFE_PARSER_OPTIONS, JatsParseError, parse_jats  # noqa: E402

DEFAULT_INPUTS = ["/work/shared/realdata/jats", str(REPO / "devsets/articles/captions"),
                  str(REPO / "devsets/articles/speed")]
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
WORD = re.compile(r"\w+")


def list_files(args: list[str]) -> list[str]:
    out = []
    for a in args or DEFAULT_INPUTS:
        p = Path(a)
        if p.is_dir():
            out.extend(str(q) for q in sorted(p.iterdir()) if q.suffix.lower() in (".xml", ".nxml"))
        elif p.is_file():
            out.append(str(p))
    return out


def load_peer():
    try:
        import pubmed_parser as pp
    except Exception as e:  # report exactly why
        return None, f"{type(e).__name__}: {e}"
    return pp, getattr(pp, "__version__", None) or _dist_version("pubmed_parser")


def _dist_version(name: str) -> str:
    try:
        from importlib.metadata import version
        return version(name)
    except Exception:
        return "?"


def workloads(pp) -> dict:
    safe = etree.XMLParser(**SAFE_PARSER_OPTIONS)
    w = {"ours": lambda f: parse_jats(f), "lxml_parse": lambda f: etree.parse(f, safe)}
    if pp is not None:
        w["pp_captions"] = lambda f: pp.parse_pubmed_caption(f)
        w["pp_fig+paragraphs"] = lambda f: (pp.parse_pubmed_caption(f), pp.parse_pubmed_paragraph(f))
        w["pp_same_fields"] = lambda f: (pp.parse_pubmed_xml(f), pp.parse_pubmed_caption(f),
                                         pp.parse_pubmed_paragraph(f))
    return w


def _one_pass(fn, files) -> int:
    errors = 0
    for f in files:
        try:
            fn(f)
        except Exception:
            errors += 1
    return errors


def bench(files: list[str], work: dict, rounds: int) -> dict:
    """Interleaved rounds, one pass over the files per parser and round, timed in CPU seconds of this process;
    the fastest round of each parser is its rate (the round least disturbed by other processes), the median
    round is shown too."""
    errors = {name: _one_pass(fn, files) for name, fn in work.items()}  # warm-up
    times: dict[str, list[float]] = {name: [] for name in work}
    for _ in range(rounds):
        for name, fn in work.items():
            t = time.process_time()
            _one_pass(fn, files)
            times[name].append((time.process_time() - t) / len(files))
    out = {}
    for name, ts in times.items():
        ts.sort()
        out[name] = dict(files_per_s=1.0 / ts[0], ms_per_file=ts[0] * 1e3, median_ms=ts[len(ts) // 2] * 1e3,
                         errors=errors[name])
    return out


# ------------------------------------------------------------------------------------ extraction check

DOI_TRAILER = re.compile(r"DOI:\s*https?://dx\.doi\.org/\S+\s*$")


def truth(path: str) -> dict:
    root = etree.parse(path, etree.XMLParser(**SAFE_PARSER_OPTIONS)).getroot()
    out = {}
    for fig in root.iter("fig"):
        if any(a.tag in ("sub-article", "response") for a in fig.iterancestors()):
            continue
        hrefs = fig.xpath("./graphic/@xlink:href | ./alternatives/graphic/@xlink:href",
                          namespaces={"xlink": "http://www.w3.org/1999/xlink"})
        cap = fig.find("caption")
        # an eLife caption's closing "DOI: http://dx.doi.org/..." line names the figure: no caption text (issue #22)
        text = DOI_TRAILER.sub("", cap.xpath("string(.)")) if cap is not None else ""
        out[fig.get("id")] = dict(graphic=hrefs[0] if hrefs else None, words=collections.Counter(WORD.findall(text)))
    return out


def _full(caption: str | None, words: collections.Counter) -> bool:
    got = collections.Counter(WORD.findall(caption or ""))
    return all(got[w] >= n for w, n in words.items())


def compare(files: list[str], pp) -> list[dict]:
    rows = []
    for f in files:
        t = truth(f)
        ours = parse_jats(f)
        r = dict(file=Path(f).name, figures=len(t), ours_full=0, ours_graphic=0, ours_cited=0, ours_sentences=0,
                 pp_figures=0, pp_full=0, pp_graphic=0, pp_cited=0, pp_paragraphs=0, pp_error="")
        for fig in ours.figures:
            tt = t.get(fig.id)
            if tt is None:
                continue
            r["ours_full"] += _full(fig.caption, tt["words"])
            r["ours_graphic"] += fig.graphic == tt["graphic"]
            r["ours_cited"] += bool(fig.citations)
        r["ours_sentences"] = len(ours.citations)
        if pp is not None:
            try:
                caps = pp.parse_pubmed_caption(f) or []
                paras = pp.parse_pubmed_paragraph(f) or []
            except Exception as e:
                r["pp_error"] = f"{type(e).__name__}: {e}"[:80]
                caps, paras = [], []
            r["pp_figures"] = len(caps)
            cited = {rid for p in paras for rid in p.get("reference_ids", [])}
            r["pp_paragraphs"] = sum(any(rid in t for rid in p.get("reference_ids", [])) for p in paras)
            for c in caps:
                tt = t.get(c.get("fig_id"))
                if tt is None:
                    continue
                r["pp_full"] += _full(c.get("fig_caption"), tt["words"])
                r["pp_graphic"] += c.get("graphic_ref") == tt["graphic"]
                r["pp_cited"] += c.get("fig_id") in cited
        rows.append(r)
    return rows


def demo_articles(n: int) -> list[tuple[str, bytes]]:
    from mednarratives.articles.synthetic import plan_article
    from mednarratives_demo.articles import article_ids
    return [(f"demo_{aid}_s{seed}.xml", plan_article(aid, seed).xml.encode("utf-8"))
            for seed in (0, 7, 20250107) for aid in article_ids(n, seed)]


def dump(sources: list[str | tuple[str, bytes]], out_dir: str) -> None:
    """One JSON parse record per file (or (name, XML bytes)), named after the file (names must be unique)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for src in sources:
        name, data = src if isinstance(src, tuple) else (Path(src).name, src)
        try:
            rec = parse_jats(data).to_dict()
        except JatsParseError as e:
            rec = {"error": e.reason, "detail": e.detail}
        (out / f"{name}.json").write_text(json.dumps(rec, ensure_ascii=False, indent=1), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("inputs", nargs="*", help=f"folders or files (default {DEFAULT_INPUTS})")
    ap.add_argument("--rounds", type=int, default=100, help="interleaved rounds (one pass over the files each)")
    ap.add_argument("--dump", metavar="DIR", help="write each file's parse record to DIR/<name>.json and stop")
    ap.add_argument("--demo", type=int, default=0, metavar="N", help="with --dump: also N demo articles per seed")
    a = ap.parse_args(argv)
    files = list_files(a.inputs)
    if not files:
        print("no .xml/.nxml input files", file=sys.stderr)
        return 2
    if a.dump:
        sources = files + demo_articles(a.demo)
        dump(sources, a.dump)
        print(f"{len(sources)} parse records in {a.dump}")
        return 0
    pp, pp_info = load_peer()
    print(f"files: {len(files)} ({sum(Path(f).stat().st_size for f in files) / 1e6:.2f} MB)")
    print(f"pubmed_parser: {'version ' + pp_info if pp is not None else 'NOT AVAILABLE - ' + pp_info}")
    import lxml
    print(f"lxml {lxml.__version__}, python {sys.version.split()[0]}")

    res = bench(files, workloads(pp), a.rounds)
    print(f"\n{a.rounds} rounds; rate from the fastest round")
    print(f"{'parser':<20}{'files/s':>10}{'ms/file':>10}{'median ms':>11}{'errors':>8}{'ours is':>10}")
    for name, r in res.items():
        ratio = res["ours"]["files_per_s"] / r["files_per_s"]
        print(f"{name:<20}{r['files_per_s']:>10.1f}{r['ms_per_file']:>10.3f}{r['median_ms']:>11.3f}{r['errors']:>8}"
              f"{ratio:>9.2f}x")

    rows = compare(files, pp)
    print(f"\n{'file':<28}{'figs':>5} | {'ours: full graphic cited sent':>30} | "
          f"{'pubmed_parser: figs full graphic cited paras':>46}")
    tot = collections.Counter()
    for r in rows:
        print(f"{r['file']:<28}{r['figures']:>5} | {r['ours_full']:>11}{r['ours_graphic']:>8}{r['ours_cited']:>6}"
              f"{r['ours_sentences']:>5} | {r['pp_figures']:>20}{r['pp_full']:>5}{r['pp_graphic']:>8}"
              f"{r['pp_cited']:>6}{r['pp_paragraphs']:>6} {r['pp_error']}")
        tot.update({k: v for k, v in r.items() if isinstance(v, int)})
    print(f"{'TOTAL':<28}{tot['figures']:>5} | {tot['ours_full']:>11}{tot['ours_graphic']:>8}{tot['ours_cited']:>6}"
          f"{tot['ours_sentences']:>5} | {tot['pp_figures']:>20}{tot['pp_full']:>5}{tot['pp_graphic']:>8}"
          f"{tot['pp_cited']:>6}{tot['pp_paragraphs']:>6}")
    if pp is not None:
        print(f"\nsummary: ours {res['ours']['files_per_s']:.0f} files/s, "
              f"{res['lxml_parse']['files_per_s'] / res['ours']['files_per_s']:.2f}x the time of lxml_parse; "
              + "; ".join(f"{res['ours']['files_per_s'] / res[k]['files_per_s']:.2f}x vs {k}"
                          for k in res if k not in ("ours", "lxml_parse")))
        print(f"figures with full caption: ours {tot['ours_full']}/{tot['figures']}, "
              f"pubmed_parser {tot['pp_full']}/{tot['figures']}; correct graphic: ours {tot['ours_graphic']}, "
              f"pubmed_parser {tot['pp_graphic']}; cited figures: ours {tot['ours_cited']}, "
              f"pubmed_parser {tot['pp_cited']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
