"""Article package sources: safe tar extraction, local folders, HTTP(S) fetching from a local test server."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from mednarratives.articles.fetch import (
    ArticlePackage,
    FetchError,
    FetchOptions,
    HttpSource,
    PackageError,
    TarLimits,
    UnsafeArchiveError,
    download,
    iter_local_packages,
    normalize_pmcid,
    open_package,
    package_from_folder,
    package_from_tar,
    safe_extract_tar,
)
from mednarratives.articles.jats import parse_jats

NXML = b"""<?xml version="1.0"?>
<article xmlns:xlink="http://www.w3.org/1999/xlink"><front><article-meta>
<article-id pub-id-type="pmc">777</article-id><title-group><article-title>Test</article-title></title-group>
</article-meta></front><body><sec><p>See Figure 1.</p>
<fig id="F1"><label>Figure 1</label><caption><p>Chest CT.</p></caption><graphic xlink:href="gr1"/></fig>
</sec></body></article>"""
JPG1 = b"\xff\xd8\xff\xe0 fake jpeg one \xff\xd9"
JPG2 = b"\xff\xd8\xff\xe0 fake jpeg two \xff\xd9"
PDF = b"%PDF-1.4 supplementary"


def md5(b: bytes) -> str:
    return hashlib.md5(b).hexdigest()


# ------------------------------------------------------------------------------------------------ tar

def make_tar(path: Path, members: list, gz: bool = True) -> Path:
    """members: (name, bytes) for files, or (TarInfo, bytes | None) for anything else."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tf:
        for name, data in members:
            if isinstance(name, tarfile.TarInfo):
                tf.addfile(name, io.BytesIO(data) if data is not None else None)
            else:
                ti = tarfile.TarInfo(name)
                ti.size = len(data)
                tf.addfile(ti, io.BytesIO(data))
    raw = buf.getvalue()
    path.write_bytes(gzip.compress(raw) if gz else raw)
    return path


def good_tar(tmp_path: Path) -> Path:
    d = tarfile.TarInfo("PMC777")
    d.type = tarfile.DIRTYPE
    return make_tar(tmp_path / "PMC777.tar.gz", [(d, None), ("PMC777/test.nxml", NXML),
                                                  ("PMC777/gr1.jpg", JPG1), ("PMC777/mmc1.pdf", PDF)])


def test_package_from_tar(tmp_path):
    pkg = package_from_tar(good_tar(tmp_path), tmp_path / "out")
    assert pkg.pmcid == "PMC777"
    assert pkg.xml_path == tmp_path / "out/PMC777/PMC777/test.nxml"
    assert sorted(pkg.files) == ["gr1.jpg", "mmc1.pdf", "test.nxml"]
    assert pkg.files["gr1.jpg"].read_bytes() == JPG1
    assert list(pkg.images) == ["gr1.jpg"]
    assert parse_jats(pkg.xml_path).figures[0].graphic == "gr1"
    # a second call reuses the extracted folder
    assert package_from_tar(tmp_path / "PMC777.tar.gz", tmp_path / "out").files == pkg.files


def _special(name: str, kind, linkname: str = "") -> tarfile.TarInfo:
    ti = tarfile.TarInfo(name)
    ti.type = kind
    ti.linkname = linkname
    return ti


@pytest.mark.parametrize("members, reason", [
    ([("PMC1/a.nxml", NXML), ("../evil.txt", b"x")], "path_traversal"),
    ([("PMC1/../../evil.txt", b"x")], "path_traversal"),
    ([("/tmp/evil.txt", b"x")], "absolute_path"),
    ([("PMC1\\..\\evil.txt", b"x")], "backslash_path"),
    ([("PMC1/a.nxml", NXML), (_special("PMC1/link", tarfile.SYMTYPE, "/etc/passwd"), None)], "symlink"),
    ([("PMC1/a.nxml", NXML), (_special("PMC1/hard", tarfile.LNKTYPE, "PMC1/a.nxml"), None)], "hardlink"),
    ([(_special("PMC1/dev", tarfile.CHRTYPE), None)], "device"),
    ([(_special("PMC1/blk", tarfile.BLKTYPE), None)], "device"),
    ([(_special("PMC1/fifo", tarfile.FIFOTYPE), None)], "fifo"),
    ([("PMC1/a.nxml", NXML), ("PMC1/a.nxml", NXML)], "duplicate_member"),
])
def test_unsafe_members_are_rejected(tmp_path, members, reason):
    archive = make_tar(tmp_path / "bad.tar.gz", members)
    out = tmp_path / "out"
    with pytest.raises(UnsafeArchiveError) as e:
        safe_extract_tar(archive, out / "PMC1")
    assert e.value.reason == reason
    assert not (out / "PMC1").exists()
    assert list(out.iterdir()) == []              # no partial extraction, no temp folder left
    assert not (tmp_path / "evil.txt").exists()


def test_members_pass_the_data_filter(tmp_path):
    """tarfile's "data" filter: a ".." that stays inside is resolved, setuid and group/other write bits go."""
    setuid = tarfile.TarInfo("PMC1/x/../b.jpg")
    setuid.size, setuid.mode = 3, 0o6777
    archive = make_tar(tmp_path / "ok.tar.gz", [("PMC1/a.nxml", NXML), (setuid, b"abc")])
    out = safe_extract_tar(archive, tmp_path / "out" / "PMC1")
    assert sorted(out) == ["PMC1/a.nxml", "PMC1/b.jpg"]
    assert out["PMC1/b.jpg"].read_bytes() == b"abc"
    assert out["PMC1/b.jpg"].stat().st_mode & 0o7777 == 0o755


@pytest.mark.parametrize("limits, reason", [
    (TarLimits(max_members=2), "too_many_members"),
    (TarLimits(max_member_bytes=100), "member_too_large"),
    (TarLimits(max_total_bytes=250), "archive_too_large"),
])
def test_size_and_count_limits(tmp_path, limits, reason):
    archive = make_tar(tmp_path / "big.tar.gz", [(f"PMC1/f{i}.bin", b"0" * 150) for i in range(3)])
    with pytest.raises(UnsafeArchiveError) as e:
        safe_extract_tar(archive, tmp_path / "out" / "PMC1", limits)
    assert e.value.reason == reason
    row = e.value.ledger_row("articles_fetch", "PMC1")
    assert (row["decision"], row["reason"], row["unit"]) == ("dropped", reason, "PMC1")


def test_corrupt_and_truncated_archives(tmp_path):
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"\x1f\x8b\x08\x00 not really gzip" * 10)
    with pytest.raises(PackageError) as e:
        safe_extract_tar(junk, tmp_path / "o1")
    assert e.value.reason == "corrupt_archive"
    data = good_tar(tmp_path).read_bytes()
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(PackageError) as e:
        safe_extract_tar(cut, tmp_path / "o2")
    assert e.value.reason == "corrupt_archive"
    assert not (tmp_path / "o2").exists()


def test_tar_without_xml(tmp_path):
    archive = make_tar(tmp_path / "PMC9.tar.gz", [("PMC9/gr1.jpg", JPG1)])
    with pytest.raises(PackageError) as e:
        package_from_tar(archive, tmp_path / "out")
    assert e.value.reason == "no_xml"


# ----------------------------------------------------------------------------------------- folders

def test_folder_and_local_iteration(tmp_path):
    root = tmp_path / "in"
    (root / "PMC5").mkdir(parents=True)
    (root / "PMC5" / "paper.xml").write_bytes(NXML)
    (root / "PMC5" / "paper.nxml").write_bytes(NXML)
    (root / "PMC5" / "gr1.jpg").write_bytes(JPG1)
    (root / "loose.nxml").write_bytes(NXML)
    (root / "loose.g001.jpg").write_bytes(JPG1)
    (root / "other.jpg").write_bytes(JPG2)
    good_tar(root)
    (root / "broken.tar.gz").write_bytes(b"nope")
    pkg = package_from_folder(root / "PMC5")
    assert (pkg.pmcid, pkg.xml_path.name, sorted(pkg.files)) == ("PMC5", "paper.nxml",
                                                                  ["gr1.jpg", "paper.nxml", "paper.xml"])
    got = list(iter_local_packages(root, extract_dir=tmp_path / "ext"))
    errors = [g for g in got if isinstance(g, PackageError)]
    pkgs = {g.pmcid: g for g in got if isinstance(g, ArticlePackage)}
    assert sorted(pkgs) == ["PMC5", "PMC777", "loose"]
    assert [e.reason for e in errors] == ["corrupt_archive"]
    assert sorted(pkgs["loose"].files) == ["loose.g001.jpg", "loose.nxml"]
    assert open_package(root / "loose.nxml").xml_path == root / "loose.nxml"
    with pytest.raises(PackageError):
        open_package(root / "other.jpg")


def test_normalize_pmcid():
    assert normalize_pmcid("PMC123") == ("PMC123", None)
    assert normalize_pmcid("123.2") == ("PMC123", 2)
    with pytest.raises(ValueError):
        normalize_pmcid("../etc")


# --------------------------------------------------------------------------------------------- http

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def _send(self, code, body=b"", headers=None, length=None):
        self.send_response(code)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def do_GET(self):
        st = self.server.state
        st["hits"][self.path] = st["hits"].get(self.path, 0) + 1
        n = st["hits"][self.path]
        u = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(u.query)
        if u.path == "/" and q.get("list-type") == ["2"]:
            prefix = q["prefix"][0]
            versions = st["versions"].get(prefix, [])
            body = ('<?xml version="1.0" encoding="UTF-8"?><ListBucketResult '
                    'xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
                    + "".join(f"<CommonPrefixes><Prefix>{prefix}{v}/</Prefix></CommonPrefixes>" for v in versions)
                    + "</ListBucketResult>").encode()
            return self._send(200, body, {"Content-Type": "application/xml"})
        if u.path == "/flaky":
            return self._send(503) if n <= 2 else self._send(200, b"finally")
        if u.path == "/ratelimited":
            return self._send(429, headers={"Retry-After": "0"}) if n == 1 else self._send(200, b"ok")
        if u.path == "/big":
            return self._send(200, b"x" * 5000)
        if u.path == "/big-nolength":  # close-delimited body, no Content-Length
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"y" * 5000)
            self.close_connection = True
            return
        if u.path == "/truncated":
            return self._send(200, b"0123456789", length=1000)
        if u.path == "/slow":
            time.sleep(1.0)
            return self._send(200, b"late")
        if u.path == "/redirect-file":
            return self._send(302, headers={"Location": "file:///etc/passwd"})
        if u.path in st["files"]:
            return self._send(200, st["files"][u.path])
        return self._send(404, b"not found")


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # clients that give up early (timeouts, size limits) break the pipe: expected here


@pytest.fixture
def server():
    srv = QuietServer(("127.0.0.1", 0), Handler)
    srv.state = {"hits": {}, "files": {}, "versions": {}}
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    t.start()
    srv.url = f"http://127.0.0.1:{srv.server_address[1]}"
    yield srv
    srv.shutdown()
    srv.server_close()


FAST = FetchOptions(timeout_s=2.0, attempts=3, backoff_s=0.01, max_backoff_s=0.05, max_bytes=2000)


def publish_cloud_article(srv, pmcid="PMC777", version=2, media=(("gr1.jpg", JPG1), ("gr2.jpg", JPG2),
                                                                    ("mmc1.pdf", PDF)), bad_md5=()):
    prefix = f"{pmcid}.{version}"
    srv.state["versions"][f"{pmcid}."] = [1, version]
    files = {f"/{prefix}/{prefix}.xml": NXML}
    for name, data in media:
        files[f"/{prefix}/{name}"] = data
    srv.state["files"].update(files)

    def s3(name, data):
        digest = "0" * 32 if name in bad_md5 else md5(data)
        return f"s3://pmc-oa-opendata/{prefix}/{name}?md5={digest}"
    meta = {"pmcid": pmcid, "version": version, "pmid": 1, "doi": "10.1/x", "license_code": "CC BY",
            "xml_url": s3(f"{prefix}.xml", NXML), "media_urls": [s3(n, d) for n, d in media]}
    srv.state["files"][f"/{prefix}/{prefix}.json"] = json.dumps(meta).encode()
    return prefix


def test_cloud_fetch_latest_version_images(server, tmp_path):
    prefix = publish_cloud_article(server)
    src = HttpSource(base_url=server.url, options=FAST, sleep=lambda s: None)
    assert src.list_versions("PMC777") == [1, 2]
    pkg = src.fetch("PMC777", tmp_path)
    assert (pkg.pmcid, pkg.version) == ("PMC777", 2)
    assert pkg.xml_path == tmp_path / prefix / f"{prefix}.xml"
    assert sorted(pkg.files) == ["PMC777.2.xml", "gr1.jpg", "gr2.jpg"]
    assert pkg.files["gr2.jpg"].read_bytes() == JPG2
    assert pkg.skipped == [("mmc1.pdf", "media=images")]
    assert parse_jats(pkg.xml_path).pmcid == "PMC777"
    assert not list((tmp_path / prefix).glob(".*"))  # no temporary files left
    # a second run keeps the complete files (MD5 checked) and downloads nothing again
    assert src.fetch("PMC777", tmp_path).files == pkg.files
    assert server.state["hits"][f"/{prefix}/gr1.jpg"] == 1
    assert server.state["hits"][f"/{prefix}/{prefix}.json"] == 2


def test_cloud_fetch_figures_only_and_explicit_version(server, tmp_path):
    publish_cloud_article(server, version=1)
    src = HttpSource(base_url=server.url, options=FAST, sleep=lambda s: None, list_versions_enabled=False)
    pkg = src.fetch("PMC777", tmp_path, version=1, media="figures")
    assert sorted(pkg.files) == ["PMC777.1.xml", "gr1.jpg"]  # gr2 is no figure graphic of the XML
    assert ("gr2.jpg", "media=figures") in pkg.skipped


def test_cloud_fetch_bad_md5_and_unsafe_names(server, tmp_path):
    publish_cloud_article(server, media=(("gr1.jpg", JPG1), ("gr2.jpg", JPG2), ("..%2Fevil.jpg", JPG1)),
                          bad_md5=("gr2.jpg",))
    pkg = HttpSource(base_url=server.url, options=FAST, sleep=lambda s: None).fetch("PMC777.2", tmp_path)
    assert sorted(pkg.files) == ["PMC777.2.xml", "gr1.jpg"]
    assert ("gr2.jpg", "md5_mismatch") in pkg.skipped
    assert ("evil.jpg", "unsafe_name") in pkg.skipped
    assert "/PMC777.2/../evil.jpg" not in server.state["hits"]  # never requested
    assert server.state["hits"]["/PMC777.2/gr2.jpg"] == FAST.attempts  # retried, then given up
    assert not (tmp_path / "evil.jpg").exists()


def test_cloud_fetch_missing_article(server, tmp_path):
    src = HttpSource(base_url=server.url, options=FAST, sleep=lambda s: None)
    with pytest.raises(FetchError) as e:
        src.fetch("PMC999", tmp_path)
    assert (e.value.reason, e.value.unit) == ("http_404", "PMC999.1")
    assert e.value.ledger_row("articles_fetch")["unit"] == "PMC999.1"


def test_static_mirror_with_file_list(server, tmp_path):
    server.state["files"].update({"/PMC5.1/a.nxml": NXML, "/PMC5.1/gr1.jpg": JPG1})
    src = HttpSource(base_url=server.url, options=FAST, sleep=lambda s: None, list_versions_enabled=False)
    pkg = src.fetch("PMC5", tmp_path, files=["gr1.jpg", "a.nxml"])
    assert pkg.xml_path.name == "a.nxml" and pkg.files["gr1.jpg"].read_bytes() == JPG1


def test_fetch_tar_over_http(server, tmp_path):
    server.state["files"]["/pkg/PMC777.tar.gz"] = good_tar(tmp_path).read_bytes()
    src = HttpSource(base_url=server.url, options=FetchOptions(max_bytes=10**6), sleep=lambda s: None)
    pkg = src.fetch_tar(server.url + "/pkg/PMC777.tar.gz", tmp_path / "dl", tmp_path / "ext")
    assert pkg.pmcid == "PMC777" and sorted(pkg.files) == ["gr1.jpg", "mmc1.pdf", "test.nxml"]


def test_retry_with_exponential_backoff(server, tmp_path):
    sleeps = []
    out = download(server.url + "/flaky", tmp_path / "f", FAST, sleep=sleeps.append)
    assert out.read_bytes() == b"finally"
    assert sleeps == [0.01, 0.02]
    assert server.state["hits"]["/flaky"] == 3


def test_retry_after_is_honoured(server, tmp_path):
    sleeps = []
    download(server.url + "/ratelimited", tmp_path / "r", FAST, sleep=sleeps.append)
    assert sleeps == [0.0]


def test_404_is_not_retried(server, tmp_path):
    with pytest.raises(FetchError) as e:
        download(server.url + "/nothing", tmp_path / "n", FAST, sleep=lambda s: None)
    assert (e.value.reason, e.value.attempts) == ("http_404", 1)
    assert server.state["hits"]["/nothing"] == 1


@pytest.mark.parametrize("path", ["/big", "/big-nolength"])
def test_size_limit(server, tmp_path, path):
    with pytest.raises(FetchError) as e:
        download(server.url + path, tmp_path / "big", FAST, sleep=lambda s: None)
    assert e.value.reason == "too_large"
    assert list(tmp_path.iterdir()) == []  # nothing written, no temp file left


def test_truncated_body_is_retried_then_fails(server, tmp_path):
    with pytest.raises(FetchError) as e:
        download(server.url + "/truncated", tmp_path / "t", FAST, sleep=lambda s: None)
    assert e.value.reason == "truncated" and e.value.attempts == 3
    assert server.state["hits"]["/truncated"] == 3
    assert list(tmp_path.iterdir()) == []


def test_timeout(server, tmp_path):
    opt = FetchOptions(timeout_s=0.2, attempts=2, backoff_s=0.0)
    with pytest.raises(FetchError) as e:  # the server answers after 1 s: waiting it out would succeed
        download(server.url + "/slow", tmp_path / "s", opt, sleep=lambda s: None)
    assert (e.value.reason, e.value.attempts) == ("timeout", 2)


def test_only_http_urls(server, tmp_path):
    with pytest.raises(FetchError) as e:
        download("file:///etc/passwd", tmp_path / "p")
    assert e.value.reason == "bad_url"
    with pytest.raises(FetchError) as e:
        download(server.url + "/redirect-file", tmp_path / "p", FAST, sleep=lambda s: None)
    assert e.value.reason == "bad_redirect"
    assert not (tmp_path / "p").exists()
