"""Score the article stages against the demo corpus's ground truth (mednarratives_demo/articles.py *.truth.json).

* extraction: every truth figure parsed with its label, full caption and graphic; every (citing sentence,
  figure) of the truth found with the same panels (case-insensitive), and no citation that the truth lacks;
* subfigures: mAP at IoU 0.5 of the detected panel boxes (all figures pooled, one class, all-point
  interpolated precision), plus recall at IoU 0.5;
* subcaptions: exact match of each panel's full text (shared context + sub-caption, whitespace normalised)
  for labelled figures; for figures without panel labels, of the one whole caption;
* pairing: for each labelled truth panel, the sample whose box overlaps it (IoU >= 0.5) carries its label;
  for figures without labels, exactly one whole-figure sample;
* filter: agreement of `medical` with the truth (informative; the bar does not use it).
"""

from __future__ import annotations

import os
from collections import defaultdict
from typing import Iterable

import numpy as np

from mednarratives.articles.jats import normalize_ws
from mednarratives.articles.subfigures import box_iou
from mednarratives.io import read_json, read_jsonl


def _k(label) -> str:
    return str(label or "").strip().strip("()[].,:").lower()


def average_precision(dets: list[tuple[float, str, list]], truth: dict[str, list[list]], iou: float = 0.5
                      ) -> tuple[float, float]:
    """(AP, recall) of scored detections (score, image key, box) against truth boxes per image key."""
    n_truth = sum(len(v) for v in truth.values())
    if n_truth == 0:
        return 0.0, 0.0
    used = {k: [False] * len(v) for k, v in truth.items()}
    tp = []
    for score, key, box in sorted(dets, key=lambda d: -d[0]):
        best, bi = 0.0, -1
        for i, t in enumerate(truth.get(key, [])):
            o = box_iou(box, t)
            if o > best:
                best, bi = o, i
        if best >= iou and not used[key][bi]:
            used[key][bi] = True
            tp.append(1)
        else:
            tp.append(0)
    if not tp:
        return 0.0, 0.0
    tp_c = np.cumsum(tp)
    fp_c = np.cumsum(1 - np.asarray(tp))
    rec = tp_c / n_truth
    prec = tp_c / np.maximum(tp_c + fp_c, 1e-9)
    mrec = np.concatenate([[0.0], rec, [1.0]])
    mpre = np.concatenate([[1.0], prec, [0.0]])
    for i in range(len(mpre) - 2, -1, -1):
        mpre[i] = max(mpre[i], mpre[i + 1])
    idx = np.where(mrec[1:] != mrec[:-1])[0]
    return float(np.sum((mrec[idx + 1] - mrec[idx]) * mpre[idx + 1])), float(rec[-1])


def score(truth_paths: Iterable[str | os.PathLike], parsed_paths: Iterable[str | os.PathLike],
          filter_paths: Iterable[str | os.PathLike], subfig_paths: Iterable[str | os.PathLike],
          pairs_paths: Iterable[str | os.PathLike]) -> dict:
    truths = {t["article_id"]: t for t in (read_json(p) for p in truth_paths)}
    parsed = {(r["article_id"], r["xml_id"]): r for p in parsed_paths for r in read_jsonl(p)}
    filt = {(r["article_id"], r["figure_id"]): r for p in filter_paths for r in read_jsonl(p)}
    dets, panels_by_fig = [], defaultdict(list)
    for p in subfig_paths:
        for r in read_jsonl(p):
            dets.append((r["score"], f"{r['article_id']}/{r['figure_id']}", r["box"]))
            panels_by_fig[(r["article_id"], r["figure_id"])].append(r)
    samples = defaultdict(list)
    for p in pairs_paths:
        for s in read_jsonl(p):
            pv = s["provenance"]
            samples[(pv["article_id"], pv["figure_id"])].append(s)

    fig_ok = fig_n = cit_ok = cit_n = cit_extra = 0
    sub_ok = sub_n = pair_ok = pair_n = filt_ok = filt_n = 0
    truth_boxes: dict[str, list] = {}
    errors: dict[str, list] = defaultdict(list)
    for aid in sorted(truths):
        t = truths[aid]
        for tf in t["figures"]:
            fig_n += 1
            r = parsed.get((aid, tf["id"]))
            unit = f"{aid}/{tf['id']}"
            if r is None:
                errors["figures"].append(f"{unit}: not parsed")
                continue
            ok = (r["label"] == tf["label"] and normalize_ws(r["caption"]) == normalize_ws(tf["caption"])
                  and r["graphic"] == tf["graphic"] and os.path.exists(r["image"]))
            fig_ok += ok
            if not ok:
                errors["figures"].append(f"{unit}: label/caption/graphic/image differ")
            fk = (aid, r["figure_id"])
            if fk in filt:
                filt_n += 1
                filt_ok += bool(filt[fk]["medical"]) == bool(tf["medical"])
            truth_boxes[f"{aid}/{r['figure_id']}"] = [p["box"] for p in tf["panels"]]
            # sub-captions
            subs = r.get("subcaptions") or []
            labelled = any(p["label"] for p in tf["panels"])
            if labelled:
                for p in tf["panels"]:
                    sub_n += 1
                    want = normalize_ws(f"{tf['shared_context']} {p['subcaption']}")
                    got = next((normalize_ws(f"{s['context']} {s['text']}") for s in subs
                                if _k(p["label"]) in {_k(x) for x in s["labels"]}), None)
                    sub_ok += got == want
                    if got != want:
                        errors["subcaptions"].append(f"{unit}/{p['label']}: {got!r} != {want!r}")
            else:
                sub_n += 1
                got = normalize_ws(" ".join(f"{s['context']} {s['text']}" for s in subs))
                ok = len(subs) == 1 and not subs[0]["labels"] and got == normalize_ws(tf["caption"])
                sub_ok += ok
                if not ok:
                    errors["subcaptions"].append(f"{unit}: whole caption not kept as one")
            # pairing
            ss = samples.get(fk, [])
            if labelled:
                for p in tf["panels"]:
                    pair_n += 1
                    hit = [s for s in ss if s["provenance"].get("box_in_figure")
                           and box_iou(s["provenance"]["box_in_figure"], p["box"]) >= 0.5]
                    ok = any(_k(p["label"]) in {_k(x) for x in s["provenance"]["labels"]} for s in hit)
                    pair_ok += ok
                    if not ok:
                        errors["pairing"].append(
                            f"{unit}/{p['label']}: got {[s['provenance']['labels'] for s in hit]} "
                            f"({[s['provenance']['pairing'] for s in hit]})")
            else:
                pair_n += 1
                ok = len(ss) == 1 and ss[0]["provenance"]["panel"] == "whole"
                pair_ok += ok
                if not ok:
                    errors["pairing"].append(f"{unit}: not one whole-figure sample")
        # citations
        got_cits = defaultdict(list)
        for (a, _), r in parsed.items():
            if a == aid:
                for c in r["citations"]:
                    got_cits[r["xml_id"]].append((normalize_ws(c["sentence"]), tuple(sorted(_k(x) for x in c["panels"]))))
        expected = set()
        for c in t["citations"]:
            for f in c["figures"]:
                cit_n += 1
                want = (normalize_ws(c["sentence"]), tuple(sorted(_k(x) for x in c["panels"].get(f, []))))
                expected.add((f, want))
                if want in got_cits.get(f, []):
                    cit_ok += 1
                else:
                    errors["citations"].append(f"{aid}/{f}: {want} missing")
        for f, lst in got_cits.items():
            for g in lst:
                if (f, g) not in expected:
                    cit_extra += 1
                    errors["citations"].append(f"{aid}/{f}: extra {g}")

    ap, recall = average_precision(dets, truth_boxes)
    ratio = lambda a, b: round(a / b, 4) if b else None  # noqa: E731
    return {
        "figures": {"correct": fig_ok, "total": fig_n, "accuracy": ratio(fig_ok, fig_n)},
        "citations": {"correct": cit_ok, "total": cit_n, "extra": cit_extra, "accuracy": ratio(cit_ok, cit_n)},
        "subfigures": {"map50": round(ap, 4), "recall50": round(recall, 4), "detections": len(dets),
                       "truth_panels": sum(len(v) for v in truth_boxes.values())},
        "subcaptions": {"correct": sub_ok, "total": sub_n, "exact_match": ratio(sub_ok, sub_n)},
        "pairing": {"correct": pair_ok, "total": pair_n, "accuracy": ratio(pair_ok, pair_n)},
        "filter": {"correct": filt_ok, "total": filt_n, "accuracy": ratio(filt_ok, filt_n)},
        "errors": {k: v[:50] for k, v in sorted(errors.items())},
    }


BARS = {"figures": ("accuracy", 1.0), "citations": ("accuracy", 1.0), "subfigures": ("map50", 0.9),
        "subcaptions": ("exact_match", 0.95), "pairing": ("accuracy", 0.9)}


def summary_lines(result: dict) -> list[str]:
    lines = []
    for name, (key, bar) in BARS.items():
        v = result[name][key]
        lines.append(f"{name:12s} {key:12s} {v if v is not None else 'n/a':>8} (bar {bar}) "
                     f"{'PASS' if v is not None and v >= bar else 'FAIL'}")
    return lines


# ------------------------------------------------------------------ real caption dev set (devsets/articles/captions)

def _panel_texts(subs: list[dict]) -> dict[str, str]:
    """label -> full sub-caption (context + text) of the first sub-caption that carries the label."""
    out: dict[str, str] = {}
    for s in subs:
        for x in s["labels"]:
            out.setdefault(_k(x), normalize_ws(f"{s['context']} {s['text']}"))
    return out


def score_caption_devset(directory: str | os.PathLike) -> dict:
    """Figures, citing-sentence counts and sub-caption splits of real articles against hand-checked truth
    (devsets/articles/captions/truth.json: per article file, per figure id: label, graphic, citing_sentences and,
    for the captions that were labelled, the expected sub-captions with their full text, context included).

    A caption is an exact match when its set of labels is the truth's and every label's full text is the
    truth's; an unlabelled caption must come back as one unlabelled sub-caption with the whole text."""
    from mednarratives.articles.jats import parse_jats
    from mednarratives.articles.subcaptions import split_subcaptions

    truth = read_json(os.path.join(directory, "truth.json"))
    fig_ok = fig_n = cit_ok = cit_n = cap_ok = cap_n = pan_ok = pan_n = 0
    errors: dict[str, list] = defaultdict(list)
    for name in sorted(truth):
        art = parse_jats(os.path.join(directory, name))
        figs = {f.id: f for f in art.figures}
        for tf in truth[name]:
            unit = f"{name}/{tf['id']}"
            f = figs.get(tf["id"])
            fig_n += 1
            cit_n += 1
            if f is None:
                errors["figures"].append(f"{unit}: not parsed")
                continue
            if f.label == tf["label"] and f.graphic == tf["graphic"]:
                fig_ok += 1
            else:
                errors["figures"].append(f"{unit}: label/graphic {f.label!r} {f.graphic!r}")
            if len(f.citations) == tf["citing_sentences"]:
                cit_ok += 1
            else:
                errors["citations"].append(f"{unit}: {len(f.citations)} citing sentences != {tf['citing_sentences']}")
            want = tf.get("subcaptions")
            if not want:  # not labelled, or an empty caption
                continue
            cap_n += 1
            got = split_subcaptions(f)
            if not want[0]["labels"]:
                pan_n += 1
                ok = (len(got) == 1 and not got[0]["labels"]
                      and normalize_ws(f"{got[0]['context']} {got[0]['text']}") == normalize_ws(want[0]["text"]))
                pan_ok += ok
                cap_ok += ok
                if not ok:
                    errors["subcaptions"].append(f"{unit}: whole caption not kept as one: {got!r}")
                continue
            texts = _panel_texts(got)
            wanted = {_k(x): normalize_ws(w["text"]) for w in want for x in w["labels"]}
            ok_all = set(texts) == set(wanted)
            if not ok_all:
                errors["subcaptions"].append(f"{unit}: labels {sorted(texts)} != {sorted(wanted)}")
            for lab, w in wanted.items():
                pan_n += 1
                ok = texts.get(lab) == w
                pan_ok += ok
                ok_all &= ok
                if not ok:
                    errors["subcaptions"].append(f"{unit}/{lab}: {texts.get(lab)!r} != {w!r}")
            cap_ok += ok_all
    ratio = lambda a, b: round(a / b, 4) if b else None  # noqa: E731
    return {
        "figures": {"correct": fig_ok, "total": fig_n, "accuracy": ratio(fig_ok, fig_n)},
        "citations": {"correct": cit_ok, "total": cit_n, "accuracy": ratio(cit_ok, cit_n)},
        "subcaptions": {"correct": cap_ok, "total": cap_n, "exact_match": ratio(cap_ok, cap_n),
                        "panels_correct": pan_ok, "panels_total": pan_n, "panel_exact_match": ratio(pan_ok, pan_n)},
        "errors": {k: v for k, v in sorted(errors.items())},
    }


DEVSET_BARS = {"figures": ("accuracy", 1.0), "citations": ("accuracy", 0.98), "subcaptions": ("exact_match", 0.95)}


def devset_summary_lines(result: dict) -> list[str]:
    lines = []
    for name, (key, bar) in DEVSET_BARS.items():
        v = result[name][key]
        lines.append(f"real captions {name:12s} {key:12s} {v if v is not None else 'n/a':>8} "
                     f"({result[name]['correct']}/{result[name]['total']}, bar {bar}) "
                     f"{'PASS' if v is not None and v >= bar else 'FAIL'}")
    return lines
