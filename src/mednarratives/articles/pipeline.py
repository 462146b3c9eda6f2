"""The article stages, one function per Snakemake rule, each over one shard of articles (docs/data_contract.md).

manifest -> parse (fetch/open package, JATS, figure images, citations, sub-captions) -> filter (medical +
domain) -> subfigures (YOLO boxes, crops x4, label OCR) -> pairs (samples). Every article, figure and panel
ends in the stage's ledger as kept or dropped with a reason; one bad unit never stops a shard.

Ledger units: articles "PMC1", figures "PMC1/F1", panels "PMC1/F1/p0", whole-figure samples "PMC1/F1/whole".
An article that yields figures is represented by its figure rows from the parse stage on.
"""

from __future__ import annotations

import csv
import logging
import os
import re
import shutil
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

from PIL import Image, UnidentifiedImageError

from mednarratives import ledger, settings
from mednarratives.articles import fetch, figure_filter, jats, pairing
from mednarratives.articles.subcaptions import split_subcaptions
from mednarratives.io import atomic_path, read_jsonl, write_jsonl

if TYPE_CHECKING:
    from mednarratives.articles.subfigures import SubfigureOptions

log = logging.getLogger("mednarratives.articles")

ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
PASS_SUFFIXES = (".jpg", ".jpeg", ".png")
Image.MAX_IMAGE_PIXELS = 200_000_000  # PMC figures can be large; refuse decompression bombs beyond this

SOURCE, FILTER, PAIRING = (settings.defaults("articles", key) for key in ("source", "filter", "pairing"))


def shard_name(i: int) -> str:
    return f"s{i:05d}"


def safe_id(value: str) -> str:
    s = re.sub(r"[^A-Za-z0-9_.-]+", "_", value.strip()).strip("._-")
    return s or "x"


# ------------------------------------------------------------------------------------------ manifest

def list_source(kind: str, source: str, demo_dir: str = "") -> list[tuple[str, str]]:
    """(article_id, path_or_url) of every article a source names, in the source's order.

    demo: the demo corpus index (article_id, path relative to demo_dir); local: a folder of .tar.gz/.tgz
    packages, sub-folders holding an .nxml/.xml, or loose .nxml/.xml files; pmc: a text file of PMC ids
    (one per line, '#' comments) fetched from the PMC Cloud Service; path_or_url is then the id itself."""
    if kind == "demo":
        with open(source, encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh, delimiter="\t"))
        return [(r["article_id"], os.path.join(demo_dir or os.path.dirname(source), r["path"])) for r in rows]
    if kind == "local":
        root = Path(source)
        out = []
        for p in sorted(root.iterdir()):
            name = p.name
            if p.is_file() and name.lower().endswith((".tar.gz", ".tgz")):
                stem = re.sub(r"\.(tar\.gz|tgz)$", "", name, flags=re.I)
            elif p.is_file() and name.lower().endswith(fetch.XML_SUFFIXES):
                stem = name.rsplit(".", 1)[0]
            elif p.is_dir() and not p.is_symlink():
                stem = name
            else:
                continue
            out.append((stem, str(p)))
        return out
    if kind == "pmc":
        out = []
        for line in Path(source).read_text(encoding="utf-8").splitlines():
            v = line.split("#", 1)[0].strip().split("\t")[0]
            if v:
                out.append((v, v))
        return out
    raise ValueError(f"articles.source.kind must be demo|local|pmc, not {kind!r}")


def write_manifest(entries: Iterable[tuple[str, str]], out_dir: str | os.PathLike, shard_size: int,
                   ledger_path: str | os.PathLike, kind: str = "") -> list[str]:
    """Shards of `shard_size` articles (sorted ids, duplicates and unsafe ids dropped) as out_dir/{shard}.tsv."""
    rows, seen, led = [], set(), []
    for aid, path in entries:
        unit = aid
        if kind == "pmc":
            try:
                aid = fetch.normalize_pmcid(aid)[0]
            except ValueError:
                led.append(ledger.dropped("articles_manifest", safe_id(unit), "bad_id", value=unit))
                continue
        if not ID_RE.match(aid):
            led.append(ledger.dropped("articles_manifest", safe_id(aid), "bad_id", value=aid))
            continue
        if aid in seen:
            led.append(ledger.dropped("articles_manifest", f"{aid}/duplicate-{len(led)}", "duplicate", path=path))
            continue
        seen.add(aid)
        rows.append((aid, path))
        led.append(ledger.kept("articles_manifest", aid, path=path))
    rows.sort()
    out = Path(out_dir)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    names = []
    for i in range(0, len(rows), max(1, shard_size)):
        name = shard_name(i // max(1, shard_size))
        with atomic_path(out / f"{name}.tsv") as tmp, open(tmp, "w", encoding="utf-8", newline="") as fh:
            fh.write("article_id\tpath_or_url\n")
            for aid, path in rows[i:i + shard_size]:
                fh.write(f"{aid}\t{path}\n")
        names.append(name)
    ledger.write(ledger_path, led)
    return names


def read_manifest(path: str | os.PathLike) -> list[tuple[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return [(r["article_id"], r["path_or_url"]) for r in csv.DictReader(fh, delimiter="\t")]


# ------------------------------------------------------------------------------------------ parse

def _open_package(kind: str, aid: str, path: str, tmp: Path, base_url: str, media: str,
                  options: fetch.FetchOptions) -> fetch.ArticlePackage:
    if kind == "pmc":
        return fetch.HttpSource(base_url=base_url, options=options).fetch(path, tmp, media=media)
    p = Path(path)
    if p.is_file() and p.name.lower().endswith((".tar.gz", ".tgz", ".tar")):
        return fetch.package_from_tar(p, tmp, pmcid=aid)
    if p.is_file() and p.name.lower().endswith(fetch.XML_SUFFIXES):
        # a loose XML: its images are the files beside it named after it ("pone.0000217.g001.jpg")
        stem = p.name.rsplit(".", 1)[0]
        files = {p.name: p}
        for q in sorted(p.parent.iterdir()):
            if q.is_file() and q != p and not q.is_symlink() and q.name.startswith((stem + ".", stem + "-", stem + "_")):
                files[q.name] = q
        return fetch.ArticlePackage(pmcid=aid, xml_path=p, files=files, source=str(p))
    return fetch.open_package(p, extract_dir=tmp)


def _save_figure_image(src: Path, dest_stem: Path) -> tuple[str, int, int]:
    """Copy (jpg/png) or convert (others -> png) a figure image; returns (path, width, height)."""
    with Image.open(src) as im:
        im.load()
        w, h = im.size
        if src.suffix.lower() in PASS_SUFFIXES:
            dest = dest_stem.with_suffix(".jpg" if src.suffix.lower() in (".jpg", ".jpeg") else ".png")
            with atomic_path(dest) as tmp:
                shutil.copyfile(src, tmp)
        else:
            dest = dest_stem.with_suffix(".png")
            with atomic_path(dest) as tmp:
                (im.convert("RGBA") if "A" in im.getbands() else im.convert("RGB")).save(tmp, "PNG")
    return str(dest), w, h


def parse_shard(manifest: str | os.PathLike, out_jsonl: str | os.PathLike, figures_dir: str | os.PathLike,
                ledger_path: str | os.PathLike, kind: str = SOURCE["kind"], base_url: str = SOURCE["base_url"],
                media: str = SOURCE["media"], max_xml_bytes: int = settings.defaults("articles", "max_xml_bytes"),
                fetch_options: Mapping[str, Any] | None = None) -> None:
    """One record per figure (docs/data_contract.md: parse) + the figure images under figures_dir/<article>/;
    `fetch_options`: the `articles.source.fetch` config section (pmc)."""
    stage = "articles_parse"
    options = settings.from_config(fetch.FetchOptions, fetch_options)
    records, led = [], []
    figures_dir = Path(figures_dir)
    if figures_dir.exists():
        shutil.rmtree(figures_dir)
    figures_dir.mkdir(parents=True)
    for aid, path in read_manifest(manifest):
        with tempfile.TemporaryDirectory(prefix=f"mn-{aid}-") as tmpd:
            try:
                pkg = _open_package(kind, aid, path, Path(tmpd), base_url, media, options)
                art = jats.parse_jats(pkg.xml_path, pmcid=aid, max_bytes=max_xml_bytes)
            except fetch.PackageError as e:
                led.append(ledger.dropped(stage, aid, e.reason, detail=e.detail[:300]))
                continue
            except jats.JatsParseError as e:
                led.append(ledger.dropped(stage, aid, e.reason, detail=e.detail[:300]))
                continue
            except Exception as e:  # noqa: BLE001 - one bad article never stops the shard
                log.exception("article %s", aid)
                led.append(ledger.dropped(stage, aid, "error", detail=f"{type(e).__name__}: {e}"[:300]))
                continue
            if not art.figures:
                led.append(ledger.dropped(stage, aid, "no_figures"))
                continue
            used: set[str] = set()
            for fig in art.figures:
                fid = safe_id(fig.id or f"fig{len(used) + 1}")
                while fid in used:
                    fid += "_"
                used.add(fid)
                unit = f"{aid}/{fid}"
                name = jats.resolve_graphic(fig.graphic, pkg.files) if fig.graphic else None
                if not fig.graphic:
                    led.append(ledger.dropped(stage, unit, "no_graphic"))
                    continue
                if name is None:
                    led.append(ledger.dropped(stage, unit, "image_missing", graphic=fig.graphic))
                    continue
                try:
                    image, w, h = _save_figure_image(pkg.files[name], figures_dir / aid / fid)
                except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError) as e:
                    led.append(ledger.dropped(stage, unit, "image_unreadable", detail=f"{type(e).__name__}: {e}"[:300]))
                    continue
                subs = split_subcaptions(fig)
                records.append({
                    "article_id": aid, "figure_id": fid, "xml_id": fig.id, "label": fig.label,
                    "caption": fig.caption, "caption_title": fig.caption_title, "caption_marked": fig.caption_marked,
                    "graphic": fig.graphic, "image": image, "width": w, "height": h,
                    "citations": [{"sentence": c.sentence, "panels": c.panels, "section": c.section}
                                  for c in fig.citations],
                    "subcaptions": subs, "location": fig.location,
                    "article": {"title": art.title, "pmid": art.pmid, "doi": art.doi, "journal": art.journal,
                                "license": art.license, "license_code": art.license_code},
                })
                led.append(ledger.kept(stage, unit, n_subcaptions=len(subs)))
    write_jsonl(out_jsonl, records)
    ledger.write(ledger_path, led)


# ------------------------------------------------------------------------------------------ filter

def filter_shard(parsed: str | os.PathLike, out_jsonl: str | os.PathLike, ledger_path: str | os.PathLike,
                 keywords_path: str, classifier_path: str = "", classifier_loader: str = FILTER["classifier_loader"],
                 threshold: float = FILTER["threshold"]) -> None:
    stage = "articles_filter"
    keywords = figure_filter.load_keywords(keywords_path)
    clf = None
    if classifier_path:
        clf = figure_filter.load_classifier(classifier_loader, classifier_path)
    out, led = [], []
    for rec in read_jsonl(parsed):
        unit = f"{rec['article_id']}/{rec['figure_id']}"
        try:
            img = Image.open(rec["image"]).convert("RGB") if clf is not None else None
            res = figure_filter.classify(rec, keywords, clf, img, threshold)
        except Exception as e:  # noqa: BLE001
            led.append(ledger.dropped(stage, unit, "filter_error", detail=f"{type(e).__name__}: {e}"[:300]))
            continue
        out.append({"article_id": rec["article_id"], "figure_id": rec["figure_id"], **res})
        if res["keep"]:
            led.append(ledger.kept(stage, unit, domain=res["domain"], method=res["method"],
                                   note="" if clf is not None else "no classifier configured: all figures kept, "
                                                                   "domain from caption keywords"))
        else:
            led.append(ledger.dropped(stage, unit, "non_medical", method=res["method"], scores=res["scores"]))
    write_jsonl(out_jsonl, out)
    ledger.write(ledger_path, led)


# ------------------------------------------------------------------------------------------ subfigures

def subfigures_shard(parsed: str | os.PathLike, filtered: str | os.PathLike, weights: str | os.PathLike,
                     out_jsonl: str | os.PathLike, crops_dir: str | os.PathLike, ledger_path: str | os.PathLike,
                     options: SubfigureOptions | None = None, ocr: str = PAIRING["ocr"],
                     batch_figures: int = 32) -> None:
    """`options`: the detector's and the crops' parameters (config articles.subfigures, the config's by default)."""
    from mednarratives.articles import labels as label_ocr
    from mednarratives.articles.subfigures import Detector, SubfigureOptions, crop

    options = options or SubfigureOptions()
    stage = "articles_subfigures"
    keep = {(r["article_id"], r["figure_id"]) for r in read_jsonl(filtered) if r.get("keep")}
    figs = [r for r in read_jsonl(parsed) if (r["article_id"], r["figure_id"]) in keep]
    detector = Detector(weights, options)
    crops_dir = Path(crops_dir)
    if crops_dir.exists():
        shutil.rmtree(crops_dir)
    crops_dir.mkdir(parents=True)
    use_ocr = ocr == "tesseract"
    if use_ocr and not label_ocr.available():
        raise RuntimeError("articles.pairing.ocr is tesseract but tesseract is not installed (tesseract-ocr)")
    records, led = [], []
    for start in range(0, len(figs), batch_figures):
        batch = []
        for rec in figs[start:start + batch_figures]:
            unit = f"{rec['article_id']}/{rec['figure_id']}"
            try:
                img = Image.open(rec["image"])
                img.load()
                img = img.convert("RGB")
                dets, letters = detector.detect_letters(img, [lab for sub in rec.get("subcaptions") or []
                                                              for lab in sub.get("labels") or []])
            except Exception as e:  # noqa: BLE001
                led.append(ledger.dropped(stage, unit, "detect_error", detail=f"{type(e).__name__}: {e}"[:300]))
                continue
            batch.append((rec, img, dets, letters))
        reads = label_ocr.read_figure_labels([(img, [b for b, _ in dets]) for _, img, dets, _ in batch]) \
            if use_ocr else [[[] for _ in dets] for _, _, dets, _ in batch]
        if use_ocr:
            reads = [label_ocr.with_layout_letters(r, letters) for r, (_, _, _, letters) in zip(reads, batch)]
        for (rec, img, dets, _), fig_reads in zip(batch, reads):
            aid, fid = rec["article_id"], rec["figure_id"]
            led.append(ledger.kept(stage, f"{aid}/{fid}", n_panels=len(dets)))
            for k, ((box, score), cands) in enumerate(zip(dets, fig_reads)):
                panel = f"p{k}"
                path = crops_dir / aid / f"{fid}_{panel}.jpg"
                path.parent.mkdir(parents=True, exist_ok=True)
                c = crop(img, box, options.crop_scale)
                with atomic_path(path) as tmp:
                    c.save(tmp, "JPEG", quality=92)
                best = cands[0] if cands else None
                records.append({
                    "article_id": aid, "figure_id": fid, "panel": panel, "box": box, "score": score,
                    "crop": str(path), "crop_width": c.size[0], "crop_height": c.size[1],
                    "crop_scale": options.crop_scale,
                    "label_ocr": {"text": best.text if best else "", "conf": round(best.conf, 4) if best else 0.0},
                    "label_candidates": [{"text": x.text, "conf": round(x.conf, 4), "place": x.place,
                                          "box": x.box} for x in cands[:4]],
                })
                led.append(ledger.kept(stage, f"{aid}/{fid}/{panel}", score=score))
    ledger.fail_if_systematic(led, "detect_error")  # a broken detector fails the shard
    write_jsonl(out_jsonl, records)
    ledger.write(ledger_path, led)
    prov = detector.provenance()
    prov["ocr"] = label_ocr.tesseract_version() if use_ocr else "none"
    log.info("subfigures: %d figures, %d panels, model %s", len(figs), len(records), prov)


# ------------------------------------------------------------------------------------------ pairs

def pairs_shard(parsed: str | os.PathLike, filtered: str | os.PathLike, subfigs: str | os.PathLike,
                out_jsonl: str | os.PathLike, ledger_path: str | os.PathLike,
                thresholds: Sequence[float] = PAIRING["thresholds"], use_reading_order: bool = PAIRING["reading_order"],
                prior: float = PAIRING["prior"], models: dict | None = None, keywords_path: str = "") -> None:
    """One sample (docs/data_contract.md) per sub-figure/sub-caption pair, or per whole figure. Where the figure's
    domain came from caption keywords, a sub-caption with keyword hits of its own gives its sample's domain
    (multimodality figures)."""
    stage = "articles_pairs"
    keywords = figure_filter.load_keywords(keywords_path) if keywords_path else None
    panels_by_fig: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for p in read_jsonl(subfigs):
        panels_by_fig[(p["article_id"], p["figure_id"])].append(p)
    filt = {(r["article_id"], r["figure_id"]): r for r in read_jsonl(filtered)}
    samples, led = [], []
    for rec in read_jsonl(parsed):
        key = (rec["article_id"], rec["figure_id"])
        if key not in panels_by_fig:
            continue  # dropped by the filter or the detector: ledgered there
        aid, fid = key
        unit = f"{aid}/{fid}"
        panels = sorted(panels_by_fig[key], key=lambda p: int(p["panel"][1:]))
        try:
            res = pairing.pair_figure(panels, rec.get("subcaptions") or [], rec.get("caption", ""),
                                      thresholds, use_reading_order, prior)
        except Exception as e:  # noqa: BLE001
            for p in panels:
                led.append(ledger.dropped(stage, f"{unit}/{p['panel']}", "pairing_error",
                                          detail=f"{type(e).__name__}: {e}"[:300]))
            continue
        fdom = filt.get(key) or {}
        for pr in res.pairs:
            domain = fdom.get("domain") or "illustration"
            if keywords is not None and fdom.get("method") == "caption_keywords" and pr.subcaption is not None:
                sub_domain, hits = figure_filter.keyword_domain(rec["subcaptions"][pr.subcaption]["text"], keywords)
                if hits:
                    domain = sub_domain
            if pr.panel is None:
                pid, image, w, h, box = "whole", rec["image"], rec["width"], rec["height"], None
            else:
                p = panels[pr.panel]
                pid, image, w, h, box = p["panel"], p["crop"], p["crop_width"], p["crop_height"], p["box"]
            samples.append({
                "sample_id": f"a:{aid}:{fid}:{pid}", "source": "article", "image": image, "width": w, "height": h,
                "caption": pr.caption, "roi_text": "", "domain": domain, "timed_caption": [], "traces": [],
                "boxes": [], "keywords": [], "entities": [],
                "inline_refs": pairing.inline_refs(rec.get("citations") or [], pr.labels),
                "provenance": {"article_id": aid, "figure_id": fid, "panel": pid, "labels": pr.labels,
                               "box_in_figure": box, "pairing": pr.method, "case": res.case,
                               "figure_image": rec["image"], "license": (rec.get("article") or {}).get("license", ""),
                               "start": None, "end": None, "models": dict(models or {})},
            })
            led.append(ledger.kept(stage, f"{unit}/{pid}", method=pr.method, labels=pr.labels))
        for pi, why in sorted(res.unpaired_panels.items()):
            led.append(ledger.dropped(stage, f"{unit}/{panels[pi]['panel']}", why))
    write_jsonl(out_jsonl, samples)
    ledger.write(ledger_path, led)
