"""Video manifest shards from a local source, and the media of kept videos (symlink for local sources)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mednarratives.io import read_jsonl, write_jsonl
from mednarratives.videos import manifest as M
from mednarratives.videos.decide import MANIFEST_FIELDS, read_tsv, write_tsv


def test_local_manifest_sharded(tmp_path):
    vids = tmp_path / "videos"
    vids.mkdir()
    for name in ("b_two", "a_one", "c_three"):
        (vids / f"{name}.mp4").write_bytes(b"x")
    (vids / "bad name!.mp4").write_bytes(b"x")
    cands, rows = M.collect("local", str(vids), domain_hint="ct")
    paths = M.write_manifest(cands, rows, tmp_path / "manifest", tmp_path / "ledger.jsonl", shard_size=2,
                             root=tmp_path)
    assert [p.name for p in paths] == ["s00000.tsv", "s00001.tsv"]
    first = read_tsv(paths[0])
    assert list(first[0]) == list(MANIFEST_FIELDS)
    assert [r["video_id"] for r in first] == ["a_one", "b_two"]
    assert first[0]["path_or_url"] == "videos/a_one.mp4" and first[0]["query_domain"] == "ct"
    ledger = {r["unit"]: r for r in read_jsonl(tmp_path / "ledger.jsonl")}
    assert ledger["bad name!.mp4"]["reason"] == "invalid_id"
    assert ledger["a_one"]["decision"] == "kept"
    # a smaller source later removes the stale shard
    M.write_manifest(cands[:1], [], tmp_path / "manifest", tmp_path / "ledger.jsonl", shard_size=2, root=tmp_path)
    assert sorted(p.name for p in (tmp_path / "manifest").glob("*.tsv")) == ["s00000.tsv"]


def test_empty_source_writes_one_empty_shard(tmp_path):
    (tmp_path / "v").mkdir()
    cands, rows = M.collect("local", str(tmp_path / "v"))
    paths = M.write_manifest(cands, rows, tmp_path / "m", tmp_path / "l.jsonl", shard_size=5)
    assert [p.name for p in paths] == ["s00000.tsv"] and read_tsv(paths[0]) == []


def test_unknown_kind():
    with pytest.raises(ValueError):
        M.collect("ftp")


def test_shard_media_links_kept_local_videos_and_ledgers_the_missing(tmp_path):
    src = tmp_path / "a.mp4"
    src.write_bytes(b"video")
    write_tsv(tmp_path / "s00000.tsv", MANIFEST_FIELDS, [{"video_id": v, "path_or_url": str(tmp_path / f"{v}.mp4")}
                                                        for v in ("a", "b", "c")])
    write_jsonl(tmp_path / "f.jsonl", [{"video_id": "a", "decision": "positive"}, {"video_id": "b", "decision": "dropped"},
                                       {"video_id": "c", "decision": "near_positive"}])
    made = M.shard_media(tmp_path / "f.jsonl", tmp_path / "s00000.tsv", tmp_path / "full", tmp_path / "l.jsonl", "local")
    assert made == [tmp_path / "full" / "a.mp4"] and made[0].is_symlink() and made[0].read_bytes() == b"video"
    assert M.media_files(tmp_path / "full") == [("a", str(tmp_path / "full" / "a.mp4"))]
    rows = read_jsonl(tmp_path / "l.jsonl")    # b was not kept: no row
    assert [(r["unit"], r["decision"], r["reason"]) for r in rows] == [("a", "kept", ""), ("c", "dropped", "media_missing")]


def test_shard_media_downloads_full_resolution_and_ledgers_failures(tmp_path, monkeypatch):
    from mednarratives.videos import download as dl

    def fake_download(video_id, url, out_dir, options, **kw):
        if url.endswith("gone"):
            return dl.DownloadResult(video_id, False, error="HTTP Error 404")
        path = Path(out_dir) / f"{video_id}.mp4"
        path.write_bytes(options.format.encode())
        return dl.DownloadResult(video_id, True, path, None, 1)

    monkeypatch.setattr(dl, "download_one", fake_download)
    write_tsv(tmp_path / "s00000.tsv", MANIFEST_FIELDS, [{"video_id": "aaaaaaaaaaa", "path_or_url": "https://x/a"},
                                                        {"video_id": "bbbbbbbbbbb", "path_or_url": "https://x/gone"}])
    write_jsonl(tmp_path / "f.jsonl", [{"video_id": v, "decision": "positive"} for v in ("aaaaaaaaaaa", "bbbbbbbbbbb")])
    made = M.shard_media(tmp_path / "f.jsonl", tmp_path / "s00000.tsv", tmp_path / "full", tmp_path / "l.jsonl", "youtube")
    assert [p.name for p in made] == ["aaaaaaaaaaa.mp4"] and made[0].read_text() == dl.DownloadOptions.fullres().format
    assert sorted(p.name for p in (tmp_path / "full").iterdir()) == ["aaaaaaaaaaa.mp4"]  # no temporary folder left
    bad, = [r for r in read_jsonl(tmp_path / "l.jsonl") if r["decision"] == "dropped"]
    assert bad["unit"] == "bbbbbbbbbbb" and bad["reason"] == "download_failed" and "404" in bad["detail"]["error"]


def test_lowres_media_for_local_rows(tmp_path):
    f = tmp_path / "x.mp4"
    f.write_bytes(b"x")
    media_for = M.make_media_for("local")
    assert media_for({"video_id": "x", "path_or_url": str(f)}) == str(f)
    with pytest.raises(FileNotFoundError):
        media_for({"video_id": "y", "path_or_url": str(tmp_path / "y.mp4")})


def test_youtube_rows_download_lowres_once(tmp_path, monkeypatch):
    from mednarratives.videos import download as dl

    calls = []

    def fake_download(video_id, url, out_dir, options, **kw):
        calls.append((video_id, url, options.format))
        Path(out_dir).mkdir(parents=True, exist_ok=True)
        path = Path(out_dir) / f"{video_id}.mp4"
        path.write_bytes(b"v")
        Path(out_dir, f"{video_id}.info.json").write_text("{}")
        return dl.DownloadResult(video_id, True, path, None, 1)

    def failing(video_id, url, out_dir, options, **kw):
        return dl.DownloadResult(video_id, False, error="HTTP Error 404")

    monkeypatch.setattr(dl, "download_one", fake_download)
    media_for = M.make_media_for("youtube", tmp_path / "low")
    row = {"video_id": "abcdefghijk", "path_or_url": "https://www.youtube.com/watch?v=abcdefghijk"}
    assert media_for(row).endswith("abcdefghijk.mp4")
    assert media_for(row).endswith("abcdefghijk.mp4")          # second call: the file on disk, no download
    assert len(calls) == 1 and calls[0][2] == dl.LOWRES_FORMAT
    monkeypatch.setattr(dl, "download_one", failing)
    with pytest.raises(RuntimeError, match="download_failed"):
        M.make_media_for("youtube", tmp_path / "low")({"video_id": "zzzzzzzzzzz", "path_or_url": "https://x"})
