"""Candidate discovery: keyword file, video-first search + channel exploitation (fake YoutubeDL), local sources,
shards."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mednarratives.domains import DOMAINS
from mednarratives.videos import candidates as C

REPO = Path(__file__).resolve().parents[2]


def vid(n: int, prefix: str = "v") -> str:
    return f"{prefix}{n:010d}"[:11]


def chan(n: int) -> str:
    return f"UC{n:022d}"


class FakeYDL:
    """Answers extract_info like yt-dlp's flat extraction: 'ytsearchN:query' and channel /videos tabs."""

    def __init__(self, searches: dict, channels: dict, fail: set = frozenset()):
        self.searches, self.channels, self.fail = searches, channels, set(fail)
        self.calls: list[str] = []

    def extract_info(self, url, download=False):
        assert download is False
        self.calls.append(url)
        if url in self.fail:
            raise RuntimeError(f"ERROR: unable to fetch {url}")
        m = re.fullmatch(r"ytsearch(\d+):(.*)", url)
        if m:
            n, query = int(m.group(1)), m.group(2)
            entries = self.searches.get(query, [])
            return {"_type": "playlist", "id": query, "entries": [dict(e, _type="url", ie_key="Youtube")
                                                                  for e in entries[:n]]}
        m = re.fullmatch(r"https://www\.youtube\.com/channel/(UC[\w-]{22})/videos", url)
        assert m, url
        ch = self.channels[m.group(1)]
        return {"_type": "playlist", "id": m.group(1), "channel": ch["name"], "channel_id": m.group(1),
                "channel_follower_count": ch["followers"],
                "entries": [{"_type": "url", "ie_key": "Youtube", "id": v, "title": t} for v, t in ch["videos"]]}


def entry(v, title, channel_id, duration=300.0):
    return {"id": v, "title": title, "channel_id": channel_id, "channel": f"name-{channel_id[-3:]}",
            "duration": duration}


def title_filter(entry, domain):
    return "x-ray" in (entry.get("title") or "").lower()


def test_keyword_file_covers_every_domain():
    keywords, priority = C.load_keywords(REPO / "resources" / "domain_keywords.yaml")
    assert set(keywords) == set(DOMAINS)
    for domain, kws in keywords.items():
        assert 10 <= len(kws) <= 20, domain
        assert len({k.lower() for k in kws}) == len(kws), domain
    for word in ("educational", "interpretation", "case study", "lecture", "review"):
        assert word in priority
    queries = C.build_queries(keywords["xray"], priority)
    assert len(queries) == len(keywords["xray"]) * len(priority)
    assert queries[0] == f"{keywords['xray'][0]} {priority[0]}"


def test_build_queries_dedupes_and_handles_no_priority_words():
    assert C.build_queries(["CT", "ct"], ["review"]) == ["CT review"]
    assert C.build_queries(["MRI  brain"], []) == ["MRI brain"]


def make_world():
    small, big, junk = chan(1), chan(2), chan(3)
    searches = {
        "chest x-ray review": [
            entry(vid(1), "Chest X-ray review", small),
            entry(vid(2), "Pneumothorax x-ray", big),
            entry("bad id!", "x-ray but malformed id", small),
            entry(vid(3), "Cooking pasta", junk),          # fails the filter: its channel is not exploited
            entry(vid(1), "Chest X-ray review", small),    # duplicate hit
        ],
        "chest x-ray lecture": [entry(vid(4), "x-ray lecture", junk)],  # junk channel becomes relevant
    }
    channels = {
        small: {"name": "Small Rad", "followers": 12_000,
                "videos": [(vid(1), "Chest X-ray review"), (vid(5), "Hand x-ray"), (vid(6), "vlog")]},
        big: {"name": "Huge", "followers": 3_000_000, "videos": [(vid(2), "Pneumothorax x-ray"), (vid(7), "x-ray")]},
        junk: {"name": "Junk", "followers": 500,
               "videos": [(vid(4), "x-ray lecture")] + [(vid(100 + i), f"unboxing {i}") for i in range(20)]
               + [(vid(200), "x-ray late gem")]},
    }
    return searches, channels


def test_video_first_search_then_channels_with_cap_early_stop_and_dedupe():
    searches, channels = make_world()
    ydl = FakeYDL(searches, channels)
    cands, rows = C.discover_youtube({"xray": ["chest x-ray"]}, ["review", "lecture"], is_medical=title_filter,
                                     ydl=ydl, per_query=10, early_stop=10)
    ids = [c.video_id for c in cands]
    # vid1, vid5 from the small channel; vid4 from the search and vid200 from its channel; vid2 dropped with
    # its >=1M channel
    assert ids == sorted([vid(1), vid(5), vid(4), vid(200)])
    assert ids == sorted(ids)
    by_unit = {(r["stage"], r["unit"]): r for r in rows}
    assert by_unit[("search", vid(2))]["reason"] == "too_many_subscribers"
    assert by_unit[("search", vid(3))]["reason"] == "not_medical"
    assert by_unit[("search", vid(6))]["reason"] == "not_medical"
    assert by_unit[("search", "bad id!")]["reason"] == "invalid_id"
    assert by_unit[("search_channel", f"xray:{chan(2)}")]["reason"] == "too_many_subscribers"
    # junk channel: vid4 (first listed) passes, so no early stop: the 20 unboxing videos fail, the late gem is kept
    assert by_unit[("search_channel", f"xray:{chan(3)}")]["decision"] == "kept"
    # one ledger row per unique video id for the search stage
    search_units = [r["unit"] for r in rows if r["stage"] == "search"]
    assert len(search_units) == len(set(search_units))
    kept = {r["unit"] for r in rows if r["stage"] == "search" and r["decision"] == "kept"}
    assert kept == set(ids)
    c1 = next(c for c in cands if c.video_id == vid(1))
    assert c1.url == f"https://www.youtube.com/watch?v={vid(1)}"
    assert c1.domain == "xray" and c1.query == "chest x-ray review" and c1.channel_id == chan(1)
    # each channel listed once, even though several of its videos were hits
    assert sum(u.endswith(f"{chan(1)}/videos") for u in ydl.calls) == 1
    assert next(c for c in cands if c.video_id == vid(5)).channel_follower_count == 12_000


def test_early_stop_skips_a_channel_whose_first_videos_all_fail():
    ch = chan(9)
    searches = {"ct review": [entry(vid(1), "CT review", ch)]}
    # the seed video is listed after 10 non-medical ones; a medical one follows later
    videos = [(vid(10 + i), f"travel vlog {i}") for i in range(10)] + [(vid(1), "CT review"), (vid(50), "CT case")]
    ydl = FakeYDL(searches, {ch: {"name": "c", "followers": 10, "videos": videos}})
    cands, rows = C.discover_youtube({"ct": ["ct"]}, ["review"], ydl=ydl,
                                     is_medical=lambda e, d: "ct" in e["title"].lower().split())
    assert [c.video_id for c in cands] == [vid(1)]          # vid50 never evaluated
    ch_row = next(r for r in rows if r["stage"] == "search_channel")
    assert ch_row["reason"] == "early_stop" and ch_row["detail"]["evaluated"] == 10
    assert not any(r["unit"] == vid(50) for r in rows)


def test_failures_become_rows_and_order_is_deterministic():
    searches, channels = make_world()
    fail = {"ytsearch10:chest x-ray lecture", f"https://www.youtube.com/channel/{chan(1)}/videos"}
    runs = []
    for _ in range(2):
        cands, rows = C.discover_youtube({"xray": ["chest x-ray"]}, ["review", "lecture"], is_medical=title_filter,
                                         ydl=FakeYDL(searches, channels, fail), per_query=10)
        runs.append(([c.to_dict() for c in cands], rows))
    assert runs[0] == runs[1]
    rows = runs[0][1]
    assert any(r["stage"] == "search_query" and r["reason"] == "search_failed" and "unable to fetch"
               in r["detail"]["error"] for r in rows)
    assert any(r["stage"] == "search_channel" and r["reason"] == "channel_listing_failed" for r in rows)


def test_video_found_in_two_domains_is_kept_once_under_the_first():
    ch = chan(4)
    searches = {"ct review": [entry(vid(1), "CT and MRI review", ch)],
                "mri review": [entry(vid(1), "CT and MRI review", ch), entry(vid(2), "MRI knee", ch)]}
    ydl = FakeYDL(searches, {ch: {"name": "c", "followers": None, "videos": []}})
    cands, rows = C.discover_youtube({"mri": ["mri"], "ct": ["ct"]}, ["review"], ydl=ydl)
    assert [(c.video_id, c.domain) for c in cands] == [(vid(1), "ct"), (vid(2), "mri")]  # DOMAINS order: ct first
    assert cands[0].channel_follower_count is None


def test_keyword_filter():
    f = C.make_keyword_filter({"xray": ["chest x-ray", "radiograph"]})
    assert f({"title": "Reading a Chest X-ray"}, "xray")
    assert f({"title": "x", "description": "a plain radiograph"}, "xray")
    assert not f({"title": "radiographer salary"}, "xray")
    assert not f({"title": "chest x-ray"}, "ct")


def test_ids_are_validated():
    assert C.is_youtube_id("dQw4w9WgXcQ") and C.is_youtube_id("-_abcdefghi")
    for bad in ("short", "dQw4w9WgXcQx", "dQw4w9WgXc/", "../../etc/pa", None, 12345678901):
        assert not C.is_youtube_id(bad)
    assert C.is_local_id("case_01.v2") and not C.is_local_id(".hidden") and not C.is_local_id("a/b")
    with pytest.raises(ValueError):
        C.youtube_url("../x")


def test_local_manifest_and_folder(tmp_path):
    (tmp_path / "vids").mkdir()
    for name in ("b.mp4", "a.webm", "notes.txt", "-bad.mp4"):
        (tmp_path / "vids" / name).write_bytes(b"x")
    cands, rows = C.local_candidates(tmp_path / "vids", domain_hint="ct")
    assert [c.video_id for c in cands] == ["a", "b"]
    assert all(c.source == "local" and c.domain == "ct" and Path(c.url).is_absolute() for c in cands)
    assert [r["reason"] for r in rows if r["decision"] == "dropped"] == ["invalid_id"]

    manifest = tmp_path / "m" / "manifest.tsv"
    manifest.parent.mkdir()
    manifest.write_text(
        "video_id\tpath\ttitle\tchannel\tdomain_hint\n"
        "case1\t../vids/b.mp4\tKnee MRI\tRadCh\tmri\n"
        "case1\t../vids/a.webm\tdup\t\t\n"
        "../evil\t../vids/a.webm\tx\t\t\n"
        "case2\tmissing.mp4\tx\t\t\n"
        "case3\t../vids/a.webm\tx\t\tcooking\n"
        "case4\t../vids/a.webm\t\t\t\n")
    cands, rows = C.local_candidates(manifest)
    assert [(c.video_id, c.title, c.channel, c.domain) for c in cands] == [
        ("case1", "Knee MRI", "RadCh", "mri"), ("case4", "case4", "", "")]
    assert cands[0].url == str((tmp_path / "vids" / "b.mp4").resolve())
    reasons = sorted(r["reason"] for r in rows if r["decision"] == "dropped")
    assert reasons == ["duplicate_id", "invalid_id", "missing_file", "unknown_domain"]
    bad = tmp_path / "bad.tsv"
    bad.write_text("id\tfile\n")
    with pytest.raises(ValueError, match="lacks columns"):
        C.local_candidates(bad)


def test_shards_fixed_size_sorted_stable_and_stale_removed(tmp_path):
    cands = [C.Candidate(vid(i), "youtube", C.youtube_url(vid(i)), title=f"t{i}") for i in range(2500, 0, -1)]
    out = tmp_path / "shards"
    (out).mkdir()
    (out / "shard-00009.jsonl").write_text("stale\n")
    paths = C.write_shards(cands, out, shard_size=1000)
    assert [p.name for p in paths] == ["shard-00000.jsonl", "shard-00001.jsonl", "shard-00002.jsonl"]
    assert not (out / "shard-00009.jsonl").exists()
    index = C.read_index(out)
    assert [r["n"] for r in index] == [1000, 1000, 500]
    back = [c for p in paths for c in C.read_shard(p)]
    assert [c.video_id for c in back] == sorted(c.video_id for c in cands)
    assert back[0] == sorted(cands, key=lambda c: c.video_id)[0]
    before = [p.read_bytes() for p in paths]
    C.write_shards(list(reversed(cands)), out, shard_size=1000)
    assert [p.read_bytes() for p in paths] == before
    assert index[0]["digest"] == C.ids_digest(c.video_id for c in back[:1000])
    with pytest.raises(ValueError):
        C.write_shards(cands + cands[:1], out)


def test_real_search_ydl_is_flat_and_limited():
    pytest.importorskip("yt_dlp")
    ydl = C.make_search_ydl(per_query=20, channel_videos=100, socket_timeout=5)
    assert ydl.params["extract_flat"] == "in_playlist" and ydl.params["skip_download"]
    assert ydl.params["playlistend"] == 100 and ydl.params["socket_timeout"] == 5
