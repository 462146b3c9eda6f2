"""The real yt-dlp download path against an HTTP server on 127.0.0.1 (generic extractor, direct media files)."""

from __future__ import annotations

import http.server
import json
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

from mednarratives.videos.candidates import Candidate
from mednarratives.videos.download import DownloadOptions, download_batch, download_one, media_path

pytest.importorskip("yt_dlp")
pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs ffmpeg")


class Handler(http.server.SimpleHTTPRequestHandler):
    root: Path
    release: threading.Event
    counts: dict

    def __init__(self, *args, **kwargs):
        super().__init__(*args, directory=str(self.root), **kwargs)

    def log_message(self, *args):
        pass

    def _count(self) -> int:
        self.counts[self.path] = self.counts.get(self.path, 0) + 1
        return self.counts[self.path]

    def do_GET(self):
        n = self._count()
        if self.path == "/hang.mp4":            # accepts, never answers
            self.release.wait(30)
            return
        if self.path == "/flaky.mp4" and n <= 2:  # two failures, then the file
            self.send_error(503, "busy")
            return
        if self.path == "/flaky.mp4":
            self.path = "/small.mp4"
        if self.path == "/trickle.mp4":         # valid headers, then a byte stream slower than any deadline
            size = (self.root / "small.mp4").stat().st_size
            self.send_response(200)
            self.send_header("Content-Type", "video/mp4")
            self.send_header("Content-Length", str(size))
            self.end_headers()
            data = (self.root / "small.mp4").read_bytes()
            try:
                for i in range(0, size, 64):
                    if self.release.is_set():
                        return
                    self.wfile.write(data[i:i + 64])
                    self.wfile.flush()
                    time.sleep(0.05)
            except OSError:
                pass
            return
        super().do_GET()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("www")
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=30",
                    "-f", "lavfi", "-i", "sine=frequency=440", "-t", "3", "-c:v", "libx264", "-preset", "ultrafast",
                    "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(root / "small.mp4")], check=True)
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", "-i", str(root / "small.mp4"), "-c", "copy",
                    str(root / "small.mkv")], check=True)
    release = threading.Event()
    handler = type("H", (Handler,), {"root": root, "release": release, "counts": {}})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", handler
    finally:
        release.set()
        httpd.shutdown()
        httpd.server_close()


FAST = DownloadOptions(attempts=2, backoff_s=0.01, socket_timeout=0.5, ytdlp_retries=0, ytdlp_retry_sleep_s=0.0)


def leftovers(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir() if p.name.startswith(".") or p.name.endswith((".part", ".tmp")))


def test_success_writes_file_and_info_json(server, tmp_path):
    base, _ = server
    res = download_one("abcDEF12345", f"{base}/small.mp4", tmp_path, FAST)
    assert res.ok, res.error
    assert res.path == tmp_path / "abcDEF12345.mp4" and res.path.stat().st_size > 10_000
    info = json.loads((tmp_path / "abcDEF12345.info.json").read_text())
    assert info["webpage_url"] == f"{base}/small.mp4" and info["ext"] == "mp4"
    assert res.attempts == 1 and leftovers(tmp_path) == []
    assert media_path(tmp_path, "abcDEF12345") == res.path


def test_remux_to_mp4(server, tmp_path):
    base, _ = server
    res = download_one("mkv_source1", f"{base}/small.mkv", tmp_path, FAST)
    assert res.ok, res.error
    assert res.path.name == "mkv_source1.mp4"
    head = res.path.read_bytes()[:12]
    assert head[4:8] == b"ftyp"


def test_404_is_permanent_and_not_retried(server, tmp_path):
    base, handler = server
    sleeps = []
    res = download_one("missing0001", f"{base}/nope.mp4", tmp_path, FAST, sleep=sleeps.append)
    assert not res.ok and "404" in res.error and res.attempts == 1 and sleeps == []
    assert media_path(tmp_path, "missing0001") is None and leftovers(tmp_path) == []


def test_transient_errors_retry_with_exponential_backoff(server, tmp_path):
    base, handler = server
    sleeps = []
    opts = DownloadOptions(attempts=4, backoff_s=0.01, max_backoff_s=1, socket_timeout=0.5, ytdlp_retries=0)
    res = download_one("flaky000001", f"{base}/flaky.mp4", tmp_path, opts, sleep=sleeps.append)
    assert res.ok, res.error
    assert res.attempts == 3 and sleeps == [0.01, 0.02]


def test_hanging_server_times_out(server, tmp_path):
    base, _ = server
    res = download_one("hanging0001", f"{base}/hang.mp4", tmp_path, FAST)
    assert not res.ok and "timed out" in res.error.lower() and res.attempts == 2
    assert leftovers(tmp_path) == []


def test_wall_clock_cap_stops_a_trickling_download(server, tmp_path):
    base, _ = server
    opts = DownloadOptions(attempts=1, socket_timeout=2, ytdlp_retries=0, max_seconds=0.5)
    res = download_one("trickle0001", f"{base}/trickle.mp4", tmp_path, opts)
    assert not res.ok and "exceeded" in res.error and media_path(tmp_path, "trickle0001") is None


def test_batch_turns_every_failure_into_a_ledger_row(server, tmp_path):
    base, handler = server
    (tmp_path / "local.mp4").write_bytes(b"not really a video")
    items = [
        Candidate("good0000001", "url", f"{base}/small.mp4"),
        Candidate("gone0000001", "url", f"{base}/gone.mp4"),
        Candidate("hang0000001", "url", f"{base}/hang.mp4"),
        Candidate("../escape", "url", f"{base}/small.mp4"),
        Candidate("ftp00000001", "url", "file:///etc/passwd"),
        Candidate("localcase1", "local", str(tmp_path / "local.mp4"), title="t", domain="ct"),
        {"video_id": "dict0000001", "source": "url", "url": f"{base}/small.mp4"},
    ]
    out = tmp_path / "out"
    rows = download_batch(items, out, FAST, stage="download_lowres")
    by = {r["unit"]: r for r in rows}
    assert len(rows) == len(items)
    assert by["good0000001"]["decision"] == "kept" and by["good0000001"]["detail"]["file"] == "good0000001.mp4"
    assert by["dict0000001"]["decision"] == "kept"
    assert by["gone0000001"]["reason"] == "download_failed" and "404" in by["gone0000001"]["detail"]["error"]
    assert by["hang0000001"]["reason"] == "download_failed"
    assert by["../escape"]["reason"] == "invalid_id"
    assert by["ftp00000001"]["reason"] == "download_failed" and "http" in by["ftp00000001"]["detail"]["error"]
    assert by["localcase1"]["decision"] == "kept"
    assert json.loads((out / "localcase1.info.json").read_text())["source"] == "local"
    assert sorted(p.name for p in out.iterdir()) == sorted([
        "good0000001.mp4", "good0000001.info.json", "dict0000001.mp4", "dict0000001.info.json",
        "localcase1.mp4", "localcase1.info.json"])
    # a second run reuses finished files without any request
    before = dict(handler.counts)
    rows2 = download_batch(items[:1], out, FAST)
    assert rows2[0]["detail"]["cached"] is True and handler.counts == before
