import json

import numpy as np
from PIL import Image

from mednarratives.dataset.assemble import assemble, assign_splits, hamming, phash
from mednarratives.dataset.webdataset_io import read_shards
from mednarratives.io import read_jsonl, write_jsonl
from mednarratives.narratives.localized import LN_FIELDS


def _img(path, seed, size=48):
    rng = np.random.default_rng(seed)
    arr = (rng.random((8, 8, 3)) * 255).astype(np.uint8)
    Image.fromarray(arr).resize((size, size), Image.Resampling.NEAREST).save(path)
    return str(path)


def _sample(sid, img, source="video", group="v1", domain="ct", caption="a ct scan of the liver"):
    key = "video_id" if source == "video" else "article_id"
    return {"sample_id": sid, "source": source, "image": img, "width": 48, "height": 48, "caption": caption,
            "roi_text": "lesion", "domain": domain,
            "timed_caption": [{"utterance": "look here", "start_time": 1.0, "end_time": 2.0}] if source == "video" else [],
            "traces": [[[10, 10, 1.0], [20, 20, 1.5]]] if source == "video" else [], "boxes": [[10, 10, 20, 20]],
            "keywords": [], "entities": [], "inline_refs": [], "provenance": {key: group, "start": 0.0, "end": 3.0}}


def test_phash_near_duplicate_and_distinct(tmp_path):
    a = Image.open(_img(tmp_path / "a.png", 1))
    noisy = np.clip(np.asarray(a, float) + np.random.default_rng(0).normal(0, 3, (48, 48, 3)), 0, 255).astype(np.uint8)
    b = Image.open(_img(tmp_path / "b.png", 2))
    assert hamming(phash(a), phash(Image.fromarray(noisy))) <= 4
    assert hamming(phash(a), phash(b)) > 10


def test_split_keeps_groups_together_and_is_deterministic():
    gids = [f"video:v{i}" for i in range(50)]
    s1 = assign_splits(gids, 0.3, 7)
    assert s1 == assign_splits(list(reversed(gids)), 0.3, 7)
    assert 5 < sum(v == "heldout" for v in s1.values()) < 30
    assert assign_splits(["a", "b"], 0.0, 0, min_heldout_groups=1) in ({"a": "heldout", "b": "train"}, {"a": "train", "b": "heldout"})


def test_assemble_end_to_end(tmp_path):
    imgs = [_img(tmp_path / f"i{i}.png", 10 + i) for i in range(6)]
    vids = [_sample(f"v:v{g}:{c:04d}", imgs[2 * g + c], group=f"v{g}") for g in range(2) for c in range(2)]
    vids.append(_sample("v:v0:0009", imgs[0], group="v0"))  # near-duplicate (same image) of v:v0:0000
    vids.append(_sample("v:v1:0008", str(tmp_path / "missing.png"), group="v1"))
    vids.append(_sample("v:v1:0007", imgs[4], group="v1", caption="  "))
    arts = [_sample("a:PMC1:F1:p0", imgs[4], source="article", group="PMC1", domain="histology"),
            _sample("a:PMC1:F1:p1", imgs[5], source="article", group="PMC1", domain="histology")]
    write_jsonl(tmp_path / "v.jsonl", vids)
    write_jsonl(tmp_path / "a.jsonl", arts)
    (tmp_path / "empty.jsonl").write_text("")
    out = tmp_path / "out"
    files = [tmp_path / "v.jsonl", tmp_path / "a.jsonl", tmp_path / "empty.jsonl"]
    summary = assemble(files, out, tmp_path / "ledger.jsonl", heldout_fraction=0.3, seed=1)
    rows = {r["detail"]["sample"]: r for r in read_jsonl(tmp_path / "ledger.jsonl")}
    assert rows["v:v0:0009"]["reason"] == "near_duplicate"
    assert rows["v:v1:0008"]["reason"] == "missing_image"
    assert rows["v:v1:0007"]["reason"] == "empty_caption"
    assert len(rows) == 9 and sum(r["decision"] == "kept" for r in rows.values()) == 6
    assert summary["counts"]["train"] + summary["counts"]["heldout"] == 6
    assert summary["counts"]["heldout"] >= 1
    sizes = json.loads((out / "wds" / "sizes.json").read_text())
    assert sum(sizes.values()) == 6
    by_group = {}
    for split, shards in summary["shards"].items():
        for rec in read_shards(shards):
            assert rec["txt"] and rec["jpg"][:2] == b"\xff\xd8"
            by_group.setdefault(rec["json"]["group"], set()).add(split)
    assert all(len(v) == 1 for v in by_group.values())
    ln = read_jsonl(out / "localized_narratives.jsonl")
    assert all(set(r) == set(LN_FIELDS) for r in ln) and len(ln) == 6
    assert (out / "samples.parquet").stat().st_size > 0
    t8 = (out / "table8.csv").read_text().splitlines()
    assert t8[0].startswith("domain,images,pairs") and t8[-1].startswith("all,4,4")
    assert "histology" in (out / "table9.csv").read_text()
    # deterministic: a second run gives identical bytes
    snap = {p.name: p.read_bytes() for p in (out / "wds").iterdir()}
    assemble(files, out, tmp_path / "ledger2.jsonl", heldout_fraction=0.3, seed=1)
    assert snap == {p.name: p.read_bytes() for p in (out / "wds").iterdir()}


def test_gallery_draws_traces(tmp_path):
    from mednarratives.dataset.gallery import write_gallery

    img = _img(tmp_path / "g.png", 5, size=96)
    write_jsonl(tmp_path / "s.jsonl", [_sample("v:v0:0000", img), _sample("a:P:F1:p0", img, source="article", group="P")])
    summary = assemble([tmp_path / "s.jsonl"], tmp_path / "out", tmp_path / "l.jsonl", max_hamming=-1)
    assert sum(summary["counts"].values()) == 2
    pngs = write_gallery(tmp_path / "out" / "localized_narratives.sidecar.jsonl", tmp_path / "gal", n=5)
    assert [p.name.split("_", 1)[1] for p in pngs] == ["v_v0_0000.png", "a_P_F1_p0.png"]  # traced samples first
    drawn = np.asarray(Image.open(pngs[0]))
    plain = np.asarray(Image.open(pngs[1]))
    assert drawn.shape == plain.shape and (drawn != plain).any()


def test_select_finds_all_near_duplicates_like_brute_force(tmp_path, monkeypatch):
    import mednarratives.dataset.assemble as A

    rng = np.random.default_rng(3)
    base = [int(x) for x in rng.integers(0, 2**63, 40)]
    hashes = []
    for h in base:  # each base hash plus copies with 0..8 flipped bits
        hashes.append(h)
        for k in (1, 3, 4, 5, 8):
            flips = rng.choice(64, k, replace=False)
            hashes.append(h ^ sum(1 << int(f) for f in flips))
    img = _img(tmp_path / "x.png", 0)
    samples = [_sample(f"v:g:{i:04d}", img) for i in range(len(hashes))]
    it = iter(hashes)
    monkeypatch.setattr(A, "phash", lambda im: next(it))
    kept, rows = A.select(samples, max_hamming=4)
    brute, kept_h = [], []
    for i, h in enumerate(hashes):
        if any(A.hamming(h, o) <= 4 for o in kept_h):
            continue
        kept_h.append(h)
        brute.append(f"v:g:{i:04d}")
    assert [s["sample_id"] for s, _, _ in kept] == brute
