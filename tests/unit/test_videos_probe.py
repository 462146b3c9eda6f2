"""ffprobe facts and the 1 min .. 2 h duration rule, on small generated files."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from mednarratives.videos.probe import ProbeError, duration_reason, probe, probe_filter

pytestmark = pytest.mark.skipif(shutil.which("ffprobe") is None, reason="needs ffmpeg/ffprobe")


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", *args], check=True)


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    d = tmp_path_factory.mktemp("probe")
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=320x240:rate=30", "-f", "lavfi", "-i", "sine", "-t", "3",
           "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest",
           str(d / "short.mp4"))
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x48:rate=10", "-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono",
           "-t", "61", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-shortest", str(d / "ok.mp4"))
    ffmpeg("-f", "lavfi", "-i", "color=c=gray:size=32x32:rate=1", "-t", "7300", "-c:v", "libx264",
           "-preset", "ultrafast", "-g", "600", str(d / "long.mp4"))
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x48:rate=25", "-t", "90", "-c:v", "libx264", "-preset", "ultrafast",
           str(d / "silent.mp4"))
    (d / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 this is not a video" * 10)
    return d


def test_probe_facts(media):
    info = probe(media / "short.mp4")
    assert info.duration == pytest.approx(3.0, abs=0.1)
    assert info.fps == pytest.approx(30.0)
    assert (info.width, info.height) == (320, 240)
    assert info.has_video and info.has_audio
    assert (info.video_codec, info.audio_codec) == ("h264", "aac")
    assert info.size == (media / "short.mp4").stat().st_size
    assert "mp4" in info.format_name
    silent = probe(media / "silent.mp4")
    assert not silent.has_audio and silent.audio_codec is None and silent.fps == pytest.approx(25.0)


def test_duration_rule_boundaries():
    assert duration_reason(59.99) == "too_short"
    assert duration_reason(60.0) is None
    assert duration_reason(7200.0) is None
    assert duration_reason(7200.01) == "too_long"
    assert duration_reason(30, min_s=10, max_s=20) == "too_long"


def test_resolution_rule():
    from mednarratives.videos.probe import resolution_reason

    assert resolution_reason(1280, 720) is None and resolution_reason(64, 48) is None
    assert resolution_reason(7680, 4320) is None and resolution_reason(None, None) is None
    assert resolution_reason(8192, 64) == "bad_resolution"  # absurd aspect, tiny side
    assert resolution_reason(16384, 16384) == "bad_resolution"  # pixel bomb
    assert resolution_reason(24, 24) == "bad_resolution"


def test_probe_filter_rows(media):
    cases = {"short": "too_short", "ok": None, "long": "too_long", "silent": None}
    for name, reason in cases.items():
        info, row = probe_filter(name, media / f"{name}.mp4")
        assert row["stage"] == "probe" and row["unit"] == name
        assert row["reason"] == (reason or ""), name
        assert row["decision"] == ("kept" if reason is None else "dropped")
        assert row["detail"]["duration"] == pytest.approx(info.duration, abs=1e-3)
    assert probe_filter("silent", media / "silent.mp4")[1]["detail"]["has_audio"] is False


def test_errors_are_probe_errors_and_ledger_rows(media, tmp_path):
    with pytest.raises(ProbeError, match="ffprobe failed"):
        probe(media / "broken.mp4")
    with pytest.raises(ProbeError, match="no such file"):
        probe(tmp_path / "absent.mp4")
    with pytest.raises(ProbeError, match="timed out"):
        probe(media / "long.mp4", timeout=1e-4)
    info, row = probe_filter("broken", media / "broken.mp4")
    assert info is None and row["reason"] == "probe_failed" and "broken.mp4" in row["detail"]["error"]
