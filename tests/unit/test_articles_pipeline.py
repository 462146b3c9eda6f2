"""The article stages end to end on two generated demo articles (+ broken packages), with a stub detector:
manifest shards, parse, filter, subfigures, pairs, the ledger adding up, and scoring against the truth."""

from __future__ import annotations

import inspect
import json
import shutil

import pytest

from mednarratives import ledger
from mednarratives.articles import pipeline, subfigures
from mednarratives.articles.score import average_precision, score
from mednarratives_demo.articles import build_article
from mednarratives.io import read_json, read_jsonl

FLOW = {"articles_manifest": None, "articles_parse": "articles_manifest", "articles_filter": "articles_parse",
        "articles_subfigures": "articles_filter", "articles_pairs": "articles_subfigures"}
IDS = ("PMC9000001", "PMC9000003")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("articles")
    src = root / "src"
    src.mkdir()
    for aid in IDS:
        build_article(aid, 20250107, str(src / f"{aid}.tar.gz"), str(root / f"{aid}.truth.json"))
    (src / "PMC1.tar.gz").write_bytes(b"not a tar at all")
    (src / "PMC2.nxml").write_text("<article><body><p>unclosed</article>")
    return root


REAL_DETECTOR = subfigures.Detector


class StubDetector:
    """Returns the truth panel boxes of the demo figure (reading order), as a perfect detector would."""
    boxes: dict = {}

    def __init__(self, weights, *args, **kwargs):
        inspect.signature(REAL_DETECTOR).bind(weights, *args, **kwargs)  # what the real detector takes

    def detect_letters(self, image, caption_labels=()):
        return [(b, 0.9) for b in self.boxes[image.size]], [[] for _ in self.boxes[image.size]]

    def provenance(self):
        return {"name": "stub"}


def test_stages_end_to_end(corpus, tmp_path, monkeypatch):
    entries = pipeline.list_source("local", str(corpus / "src"))
    assert [e[0] for e in entries] == ["PMC1", "PMC2", "PMC9000001", "PMC9000003"]
    shards = pipeline.write_manifest(entries + [("PMC9000001", "dup"), ("bad id!", "x")], tmp_path / "manifest",
                                     shard_size=3, ledger_path=tmp_path / "led/manifest.jsonl")
    assert shards == ["s00000", "s00001"]
    rows = ledger.read([tmp_path / "led/manifest.jsonl"])
    assert sorted(r["reason"] for r in rows if r["decision"] == "dropped") == ["bad_id", "duplicate"]

    led = [tmp_path / "led/manifest.jsonl"]
    truths = {aid: read_json(corpus / f"{aid}.truth.json") for aid in IDS}
    StubDetector.boxes = {(f["width"], f["height"]): [p["box"] for p in f["panels"]]
                          for t in truths.values() for f in t["figures"]}
    monkeypatch.setattr(subfigures, "Detector", StubDetector)
    out = {k: [] for k in ("parsed", "filter", "sub", "pairs")}
    for s in shards:
        m = tmp_path / "manifest" / f"{s}.tsv"
        paths = {k: tmp_path / k / f"{s}.jsonl" for k in out}
        pipeline.parse_shard(m, paths["parsed"], tmp_path / "figures" / s, tmp_path / f"led/parse_{s}.jsonl",
                             kind="local")
        pipeline.filter_shard(paths["parsed"], paths["filter"], tmp_path / f"led/filter_{s}.jsonl",
                              "resources/articles/caption_keywords.yaml")
        pipeline.subfigures_shard(paths["parsed"], paths["filter"], "unused.pt", paths["sub"], tmp_path / "crops" / s,
                                  tmp_path / f"led/sub_{s}.jsonl", subfigures.SubfigureOptions(crop_scale=2))
        pipeline.pairs_shard(paths["parsed"], paths["filter"], paths["sub"], paths["pairs"],
                             tmp_path / f"led/pairs_{s}.jsonl")
        for k in out:
            out[k].append(paths[k])
        led += [tmp_path / f"led/{n}_{s}.jsonl" for n in ("parse", "filter", "sub", "pairs")]
    rows = ledger.read(led)
    assert ledger.check(rows, FLOW) == []
    drops = {r["unit"]: r["reason"] for r in rows if r["stage"] == "articles_parse" and r["decision"] == "dropped"}
    assert drops == {"PMC1": "corrupt_archive", "PMC2": "xml_syntax"}

    parsed = [r for p in out["parsed"] for r in read_jsonl(p)]
    assert len(parsed) == sum(len(t["figures"]) for t in truths.values())
    for r in parsed:
        assert (tmp_path / "figures").exists() and r["image"].endswith(".jpg")
        assert r["citations"] and r["subcaptions"]
    samples = [s for p in out["pairs"] for s in read_jsonl(p)]
    assert len({s["sample_id"] for s in samples}) == len(samples)
    for s in samples:
        assert s["source"] == "article" and s["caption"] and s["domain"]
        assert s["image"] and s["width"] > 0 and s["height"] > 0 and s["inline_refs"]
        assert s["timed_caption"] == [] and s["traces"] == []
    crops = [p for p in out["sub"] for p in read_jsonl(p)]
    assert all(c["crop_width"] == 2 * (c["box"][2] - c["box"][0]) for c in crops)

    result = score([corpus / f"{a}.truth.json" for a in IDS], out["parsed"], out["filter"], out["sub"],
                   out["pairs"])
    assert result["figures"]["accuracy"] == 1.0
    assert result["citations"]["accuracy"] == 1.0 and result["citations"]["extra"] == 0
    assert result["subfigures"]["map50"] == 1.0
    assert result["pairing"]["accuracy"] >= 0.9, json.dumps(result["errors"], indent=1)
    assert result["subcaptions"]["exact_match"] >= 0.9, json.dumps(result["errors"], indent=1)


def test_subfigures_stage_ledgers_an_unreadable_image(corpus, tmp_path, monkeypatch):
    monkeypatch.setattr(subfigures, "Detector", StubDetector)
    rec = {"article_id": "PMC5", "figure_id": "F1", "image": str(tmp_path / "missing.jpg"), "caption": "x",
           "subcaptions": [], "citations": [], "width": 10, "height": 10}
    (tmp_path / "parsed.jsonl").write_text(json.dumps(rec) + "\n")
    (tmp_path / "filter.jsonl").write_text(json.dumps({"article_id": "PMC5", "figure_id": "F1", "keep": True}) + "\n")
    pipeline.subfigures_shard(tmp_path / "parsed.jsonl", tmp_path / "filter.jsonl", "w.pt", tmp_path / "sub.jsonl",
                              tmp_path / "crops", tmp_path / "led.jsonl")
    assert read_jsonl(tmp_path / "sub.jsonl") == []
    [row] = read_jsonl(tmp_path / "led.jsonl")
    assert row["unit"] == "PMC5/F1" and row["reason"] == "detect_error"


def test_average_precision():
    truth = {"f": [[0, 0, 10, 10], [20, 0, 30, 10]]}
    assert average_precision([(0.9, "f", [0, 0, 10, 10]), (0.8, "f", [20, 0, 30, 10])], truth)[0] == 1.0
    ap, rec = average_precision([(0.9, "f", [0, 0, 10, 10]), (0.8, "f", [0, 0, 10, 10])], truth)
    assert ap == pytest.approx(0.5) and rec == 0.5
    # a confident false positive before the true ones halves precision at every recall level... partly
    ap, _ = average_precision([(0.99, "f", [50, 50, 60, 60]), (0.9, "f", [0, 0, 10, 10]),
                               (0.8, "f", [20, 0, 30, 10])], truth)
    assert ap == pytest.approx(2 / 3)


def test_manifest_pmc_ids_are_normalised(tmp_path):
    ids = tmp_path / "ids.txt"
    ids.write_text("# ids\nPMC3\n2\npmc3\nnot-an-id\n")
    entries = pipeline.list_source("pmc", str(ids))
    pipeline.write_manifest(entries, tmp_path / "m", 10, tmp_path / "led.jsonl", kind="pmc")
    assert pipeline.read_manifest(tmp_path / "m/s00000.tsv") == [("PMC2", "2"), ("PMC3", "PMC3")]
    reasons = sorted(r["reason"] for r in read_jsonl(tmp_path / "led.jsonl") if r["decision"] == "dropped")
    assert reasons == ["bad_id", "duplicate"]
    shutil.rmtree(tmp_path / "m")


def test_loose_xml_takes_the_images_named_after_it(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    xml = ('<article xmlns:xlink="http://www.w3.org/1999/xlink"><front><article-meta>'
           '<article-id pub-id-type="pmc">77</article-id></article-meta></front><body><sec><p>As shown in Fig. 1B, '
           'the CT was normal.</p><fig id="f1"><label>Figure 1</label><caption><p>(A) Axial CT. (B) Coronal CT.'
           '</p></caption><graphic xlink:href="pone.x.g001"/></fig></sec></body></article>')
    (src / "pone.x.nxml").write_text(xml)
    from PIL import Image
    Image.new("RGB", (40, 20), "gray").save(src / "pone.x.g001.tif")
    Image.new("RGB", (40, 20), "gray").save(src / "other.g001.jpg")
    pipeline.write_manifest(pipeline.list_source("local", str(src)), tmp_path / "m", 5, tmp_path / "l.jsonl")
    pipeline.parse_shard(tmp_path / "m/s00000.tsv", tmp_path / "p.jsonl", tmp_path / "figs", tmp_path / "lp.jsonl",
                         kind="local")
    [rec] = read_jsonl(tmp_path / "p.jsonl")
    assert rec["article_id"] == "pone.x" and rec["image"].endswith("f1.png") and (rec["width"], rec["height"]) == (40, 20)
    assert rec["citations"] == [{"sentence": "As shown in Fig. 1B, the CT was normal.", "panels": ["B"], "section": ""}]
    assert [s["labels"] for s in rec["subcaptions"]] == [["A"], ["B"]]


def test_parse_from_the_pmc_cloud_layout_over_http(tmp_path):
    """kind pmc: packages fetched from a local server laid out like the PMC Cloud Service."""
    import io

    from PIL import Image
    from test_articles_fetch import Handler, QuietServer, publish_cloud_article
    import threading

    buf = io.BytesIO()
    Image.new("RGB", (64, 48), "gray").save(buf, "JPEG")
    srv = QuietServer(("127.0.0.1", 0), Handler)
    srv.state = {"hits": {}, "files": {}, "versions": {}}
    threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    try:
        publish_cloud_article(srv, "PMC777", 2, media=(("gr1.jpg", buf.getvalue()),))
        ids = tmp_path / "ids.txt"
        ids.write_text("PMC777\nPMC404\n")
        pipeline.write_manifest(pipeline.list_source("pmc", str(ids)), tmp_path / "m", 10, tmp_path / "l.jsonl",
                                kind="pmc")
        pipeline.parse_shard(tmp_path / "m/s00000.tsv", tmp_path / "p.jsonl", tmp_path / "figs",
                             tmp_path / "lp.jsonl", kind="pmc", base_url=f"http://127.0.0.1:{srv.server_address[1]}")
    finally:
        srv.shutdown()
        srv.server_close()
    [rec] = read_jsonl(tmp_path / "p.jsonl")
    assert (rec["article_id"], rec["figure_id"], rec["width"], rec["height"]) == ("PMC777", "F1", 64, 48)
    rows = {r["unit"]: (r["decision"], r["reason"]) for r in read_jsonl(tmp_path / "lp.jsonl")}
    assert rows == {"PMC777/F1": ("kept", ""), "PMC404": ("dropped", "http_404")}
