"""Sources of PMC Open Access article packages: the PMC Cloud Service over HTTP(S), local .tar.gz packages,
local folders of .nxml/.xml + images. Every source yields an ArticlePackage(pmcid, xml_path, files).

PMC Cloud Service (2026 layout, s3://pmc-oa-opendata, public HTTPS at PMC_CLOUD_BASE): one prefix per
article version, `PMC<id>.<version>/`, holding `PMC<id>.<version>.xml` (JATS), `.txt`, `.json` (metadata:
pmcid, version, pmid, doi, license_code, xml_url, pdf_url, text_url, media_urls as s3:// URLs with an
`?md5=` digest) and the media files (figure images, supplementary data). A copy of each JSON also sits
under `metadata/`. Versions of a PMCID are listed with S3 ListObjectsV2 (`?list-type=2&prefix=PMC<id>.&
delimiter=/`). The legacy FTP/bulk packages moved to `deprecated/` in April 2026 and are removed in August
2026; legacy per-article .tar.gz packages (`PMC<id>/<name>.nxml` + images) are still read by
`package_from_tar`, locally or downloaded from any URL (`HttpSource.fetch_tar`).

HTTP: stdlib urllib, http(s) only (redirects to other schemes refused), a socket timeout, a byte limit checked
against Content-Length and while streaming, retries with exponential backoff (+ Retry-After) for network
errors, timeouts, truncated bodies, 408/425/429/5xx and MD5 mismatches, none for other 4xx; every file is
written to a temporary name and renamed on success, so a path exists only when complete.

Tar packages: each member passes tarfile's "data" extraction filter (nothing outside the destination, no
special files) and the package's own rules before it is written: no absolute names, no backslashes or NUL,
no links (only regular files and directories), no duplicates, at most `max_members` members,
`max_member_bytes` per member and `max_total_bytes` in all. The package is extracted into a temporary
folder renamed into place at the end. Problems raise UnsafeArchiveError / PackageError / FetchError (all
PackageError, with a short `reason` and `.ledger_row(stage)`), which a caller turns into a ledger row.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import os
import posixpath
import re
import shutil
import socket
import tarfile
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

from lxml import etree

from mednarratives import ledger, settings
from mednarratives.io import atomic_path, file_digest

PMC_CLOUD_BASE = settings.defaults("articles", "source", "base_url")
PMC_BUCKET = "pmc-oa-opendata"
XML_SUFFIXES = (".nxml", ".xml")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".tif", ".tiff", ".webp", ".bmp")
USER_AGENT = "mednarratives/0.1 (+https://github.com/; PMC OA research pipeline)"

_PMCID_RE = re.compile(r"^(?:PMC)?(\d{1,10})(?:\.(\d{1,3}))?$", re.I)
_SAFE_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,254}$")


# --------------------------------------------------------------------------------------------- errors

class PackageError(Exception):
    """An article package that cannot be used; `reason` is a short code for the ledger."""

    def __init__(self, reason: str, detail: str = "", unit: str = ""):
        self.reason, self.detail, self.unit = reason, detail, unit
        super().__init__(f"{reason}: {detail}" + (f" [{unit}]" if unit else ""))

    def ledger_row(self, stage: str, unit: str | None = None) -> dict:
        return ledger.dropped(stage, unit or self.unit or "?", self.reason, detail=self.detail)


class UnsafeArchiveError(PackageError):
    """A tar member that could escape the destination or exhaust the disk (path traversal, absolute path,
    link, device, duplicate, too many members, too large)."""


class FetchError(PackageError):
    """A download that failed for good (after retries where retrying made sense)."""

    def __init__(self, reason: str, detail: str = "", unit: str = "", url: str = "", attempts: int = 0):
        self.url, self.attempts = url, attempts
        super().__init__(reason, detail, unit)


# ------------------------------------------------------------------------------------------- packages

@dataclass
class ArticlePackage:
    pmcid: str
    xml_path: Path
    files: dict[str, Path] = field(default_factory=dict)   # file name (relative to the package) -> path
    source: str = ""                                        # url, archive or folder it came from
    version: int | None = None
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (name, reason) of files not taken

    @property
    def images(self) -> dict[str, Path]:
        return {n: p for n, p in self.files.items() if n.lower().endswith(IMAGE_SUFFIXES)}


def normalize_pmcid(value: str) -> tuple[str, int | None]:
    """'PMC123', '123', 'pmc123.2' -> ('PMC123', None|2); ValueError for anything else."""
    m = _PMCID_RE.match(str(value).strip())
    if not m:
        raise ValueError(f"not a PMC id: {value!r}")
    return f"PMC{int(m.group(1))}", (int(m.group(2)) if m.group(2) else None)


def _pick_xml(names: Iterable[str], pmcid: str = "") -> str | None:
    xmls = sorted(n for n in names if n.lower().endswith(XML_SUFFIXES))
    if not xmls:
        return None
    nxml = [n for n in xmls if n.lower().endswith(".nxml")]
    pool = nxml or xmls
    if pmcid:
        named = [n for n in pool if Path(n).name.upper().startswith(pmcid.upper())]
        if named:
            pool = named
    return sorted(pool, key=lambda n: (n.count("/"), len(n), n))[0]


def _pmcid_from_name(name: str) -> str:
    m = re.match(r"^(PMC\d+)", Path(name).name, re.I)
    return m.group(1).upper() if m else ""


def package_from_folder(folder: str | os.PathLike, pmcid: str | None = None) -> ArticlePackage:
    """One article in a folder: its .nxml/.xml (a .nxml first, one named like the PMCID first) + other files."""
    folder = Path(folder)
    if not folder.is_dir():
        raise PackageError("not_found", f"no folder {folder}", str(folder))
    files = {}
    for p in sorted(folder.rglob("*")):
        if p.is_symlink() or not p.is_file():
            continue
        files[p.relative_to(folder).as_posix()] = p
    pmc = pmcid or _pmcid_from_name(folder.name)
    name = _pick_xml(files, pmc)
    if name is None:
        raise PackageError("no_xml", f"no .nxml/.xml in {folder}", pmc or folder.name)
    return ArticlePackage(pmcid=pmc or _pmcid_from_name(name) or Path(name).stem, xml_path=files[name],
                          files=files, source=str(folder))


def iter_local_packages(root: str | os.PathLike, extract_dir: str | os.PathLike | None = None,
                        limits: "TarLimits | None" = None) -> Iterator[ArticlePackage | PackageError]:
    """Every article under `root`: each *.tar.gz/*.tgz (extracted into `extract_dir`), each sub-folder holding
    an XML, and each loose .nxml/.xml in `root` itself (with the files whose names start with its stem).
    Yields a PackageError instead of raising, so one bad package becomes one ledger row."""
    root = Path(root)
    if root.is_file():
        entries = [root]
        root = root.parent
    else:
        entries = sorted(root.iterdir())
    loose_xml = [p for p in entries if p.is_file() and p.name.lower().endswith(XML_SUFFIXES)]
    others = [p for p in entries if p.is_file() and p not in loose_xml]
    for p in entries:
        try:
            if p.is_file() and p.name.lower().endswith((".tar.gz", ".tgz", ".tar")):
                if extract_dir is None:
                    raise PackageError("no_extract_dir", "a tar package needs extract_dir", p.name)
                yield package_from_tar(p, extract_dir, limits=limits)
            elif p.is_dir() and not p.is_symlink():
                if any(q.name.lower().endswith(XML_SUFFIXES) for q in p.rglob("*") if q.is_file()):
                    yield package_from_folder(p)
            elif p in loose_xml:
                stem = p.name.rsplit(".", 1)[0]
                files = {p.name: p}
                for q in others:
                    if q.name.startswith(stem + ".") or q.name.startswith(stem + "-") \
                            or q.name.startswith(stem + "_"):
                        files[q.name] = q
                pmc = _pmcid_from_name(p.name) or stem
                yield ArticlePackage(pmcid=pmc, xml_path=p, files=files, source=str(p))
        except PackageError as e:
            yield e


# ------------------------------------------------------------------------------------------------ tar

@dataclass(frozen=True)
class TarLimits:
    max_members: int = 2000
    max_member_bytes: int = 256 * 2**20
    max_total_bytes: int = 1 * 2**30


def _member_kind(m: tarfile.TarInfo) -> str:
    if m.issym():
        return "symlink"
    if m.islnk():
        return "hardlink"
    if m.ischr() or m.isblk():
        return "device"
    if m.isfifo():
        return "fifo"
    if m.isdir():
        return "dir"
    if m.isreg():
        return "file"
    return "other"


def _checked_member(m: tarfile.TarInfo, dest: Path, archive: str) -> tuple[str, tarfile.TarInfo]:
    """(normalised name, filtered member) of a member that may be written under `dest`.

    tarfile's "data" extraction filter (PEP 706) refuses what would land outside `dest` and special files;
    on top of it the package takes only regular files and folders with POSIX names, and refuses an absolute
    name, which the filter would silently make relative."""
    kind = _member_kind(m)
    if not m.name or "\x00" in m.name:
        raise UnsafeArchiveError("bad_name", repr(m.name), archive)
    if "\\" in m.name:
        raise UnsafeArchiveError("backslash_path", m.name, archive)
    try:
        filtered = tarfile.data_filter(m, str(dest))
    except tarfile.OutsideDestinationError:
        raise UnsafeArchiveError("path_traversal", m.name, archive) from None
    except tarfile.AbsolutePathError:
        raise UnsafeArchiveError("absolute_path", m.name, archive) from None
    except tarfile.FilterError:  # a special file, or a link that leaves dest
        raise UnsafeArchiveError(kind, f"{m.name} ({kind})", archive) from None
    if filtered.name != m.name:
        raise UnsafeArchiveError("absolute_path", m.name, archive)
    if kind not in ("file", "dir"):
        raise UnsafeArchiveError(kind, f"{m.name} ({kind})", archive)
    name = posixpath.normpath(m.name)
    if name == "." and kind == "file":
        raise UnsafeArchiveError("bad_name", repr(m.name), archive)
    return name, filtered


def safe_extract_tar(archive: str | os.PathLike, dest: str | os.PathLike,
                     limits: TarLimits | None = None) -> dict[str, Path]:
    """Extract a tar(.gz) into `dest` (created; must not exist yet) after checking every member.
    Returns {member name: path}. Raises UnsafeArchiveError / PackageError; leaves nothing behind on error."""
    limits = limits or TarLimits()
    archive, dest = Path(archive), Path(dest)
    if dest.exists():
        raise PackageError("dest_exists", str(dest), archive.name)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent))
    try:
        out: dict[str, Path] = {}
        total = 0
        count = 0
        try:
            tf = tarfile.open(archive, mode="r:*")
        except (tarfile.TarError, OSError, EOFError) as e:
            raise PackageError("corrupt_archive", f"{type(e).__name__}: {e}", archive.name) from e
        with tf:
            try:
                for m in tf:  # streaming: headers are read one by one
                    count += 1
                    if count > limits.max_members:
                        raise UnsafeArchiveError("too_many_members", f"> {limits.max_members}", archive.name)
                    name, m = _checked_member(m, tmp, archive.name)
                    if m.isfile():
                        if name in out:
                            raise UnsafeArchiveError("duplicate_member", name, archive.name)
                        if m.size > limits.max_member_bytes:
                            raise UnsafeArchiveError("member_too_large", f"{name}: {m.size} bytes", archive.name)
                        total += m.size
                        if total > limits.max_total_bytes:
                            raise UnsafeArchiveError("archive_too_large", f"> {limits.max_total_bytes} bytes",
                                                     archive.name)
                        out[name] = dest / name
                    tf.extract(m.replace(name=name, deep=False), tmp, filter="data")
            except (tarfile.TarError, EOFError, OSError, zlib.error) as e:  # truncated / corrupt gzip or tar
                raise PackageError("corrupt_archive", f"{type(e).__name__}: {e}", archive.name) from e
        os.replace(tmp, dest)
        return out
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def package_from_tar(archive: str | os.PathLike, extract_dir: str | os.PathLike, pmcid: str | None = None,
                     limits: TarLimits | None = None) -> ArticlePackage:
    """A legacy PMC package (PMC<id>.tar.gz with PMC<id>/<name>.nxml + images), extracted safely into
    extract_dir/<pmcid>/ (reused if already there). File names are relative to the package's top folder."""
    archive = Path(archive)
    stem = archive.name
    for suf in (".tar.gz", ".tgz", ".tar"):
        if stem.lower().endswith(suf):
            stem = stem[: -len(suf)]
            break
    pmc = pmcid or _pmcid_from_name(stem) or stem
    if not _SAFE_NAME_RE.match(pmc):
        raise PackageError("bad_name", repr(pmc), archive.name)
    dest = Path(extract_dir) / pmc
    if not dest.exists():
        safe_extract_tar(archive, dest, limits)
    paths = sorted(p for p in dest.rglob("*") if p.is_file() and not p.is_symlink())
    rel = [p.relative_to(dest).as_posix() for p in paths]
    tops = {r.split("/", 1)[0] for r in rel}
    strip = len(tops) == 1 and all("/" in r for r in rel)  # one top folder: names relative to it
    files = {(r.split("/", 1)[1] if strip else r): p for r, p in zip(rel, paths, strict=True)}
    name = _pick_xml(files, pmc)
    if name is None:
        raise PackageError("no_xml", f"no .nxml/.xml in {archive.name}", pmc)
    return ArticlePackage(pmcid=pmc, xml_path=files[name], files=files, source=str(archive))


# ----------------------------------------------------------------------------------------------- http

class _HttpOnlyRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if urllib.parse.urlsplit(newurl).scheme not in ("http", "https"):
            raise FetchError("bad_redirect", f"redirect to {newurl}", url=req.full_url)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


_OPENER = urllib.request.build_opener(_HttpOnlyRedirects())
_RETRY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
@settings.schema_defaults("articles", "source", "fetch")
class FetchOptions:
    timeout_s: float              # socket timeout (connect and each read)
    attempts: int                 # total tries per file
    backoff_s: float              # sleep backoff_s * 2**k after failed try k (capped), or Retry-After
    max_backoff_s: float
    max_bytes: int                # per file
    user_agent: str = USER_AGENT
    chunk_bytes: int = 1 << 16


class _Retry(Exception):
    def __init__(self, reason: str, detail: str, wait: float | None = None):
        self.reason, self.detail, self.wait = reason, detail, wait
        super().__init__(f"{reason}: {detail}")


def _check_url(url: str) -> None:
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise FetchError("bad_url", f"only http(s) URLs are fetched: {url!r}", url=url)


def download(url: str, dest: str | os.PathLike, options: FetchOptions | None = None, *,
             md5: str | None = None, sleep: Callable[[float], None] = time.sleep) -> Path:
    """Download `url` to `dest` atomically, with retries and limits. Returns dest; raises FetchError."""
    opt = options or FetchOptions()
    _check_url(url)
    dest = Path(dest)
    last: _Retry | None = None
    for attempt in range(1, opt.attempts + 1):
        try:
            _download_once(url, dest, opt, md5)
            return dest
        except _Retry as r:
            last = r
            if attempt == opt.attempts:
                break
            wait = r.wait if r.wait is not None else opt.backoff_s * 2 ** (attempt - 1)
            sleep(max(0.0, min(wait, opt.max_backoff_s)))
        except FetchError as e:
            e.url, e.attempts = url, attempt
            raise
    assert last is not None
    raise FetchError(last.reason, last.detail, url=url, attempts=opt.attempts)


def _retry_after(headers) -> float | None:
    v = headers.get("Retry-After") if headers is not None else None
    if v and v.strip().isdigit():
        return float(v.strip())
    return None


def _download_once(url: str, dest: Path, opt: FetchOptions, md5: str | None) -> None:
    req = urllib.request.Request(url, headers={"User-Agent": opt.user_agent, "Accept-Encoding": "identity"})
    try:
        resp = _OPENER.open(req, timeout=opt.timeout_s)
    except urllib.error.HTTPError as e:
        e.close()
        if e.code in (301, 302, 303, 307, 308):  # urllib refused to follow it (e.g. to file://)
            raise FetchError("bad_redirect", str(e.reason), url=url) from None
        if e.code in _RETRY_STATUS:
            raise _Retry(f"http_{e.code}", str(e.reason), _retry_after(e.headers)) from None
        raise FetchError(f"http_{e.code}", str(e.reason), url=url) from None
    except FetchError:
        raise
    except (urllib.error.URLError, socket.timeout, TimeoutError, ConnectionError, http.client.HTTPException,
            OSError) as e:
        reason = getattr(e, "reason", e)
        kind = "timeout" if isinstance(reason, (socket.timeout, TimeoutError)) or "timed out" in str(e) \
            else "network"
        raise _Retry(kind, f"{type(e).__name__}: {reason}") from None
    with resp:
        length = resp.headers.get("Content-Length")
        if length and length.isdigit() and int(length) > opt.max_bytes:
            raise FetchError("too_large", f"Content-Length {length} > {opt.max_bytes}", url=url)
        digest = hashlib.md5()
        n = 0
        try:
            with atomic_path(dest) as tmp, open(tmp, "wb") as fh:
                while True:
                    chunk = resp.read(opt.chunk_bytes)
                    if not chunk:
                        break
                    n += len(chunk)
                    if n > opt.max_bytes:
                        raise FetchError("too_large", f"> {opt.max_bytes} bytes", url=url)
                    digest.update(chunk)
                    fh.write(chunk)
                if length and length.isdigit() and n != int(length):
                    raise _Retry("truncated", f"{n} of {length} bytes")
                if md5 and digest.hexdigest() != md5.lower():
                    raise _Retry("md5_mismatch", f"got {digest.hexdigest()}, expected {md5}")
        except (http.client.IncompleteRead, socket.timeout, TimeoutError, ConnectionError) as e:
            raise _Retry("truncated" if isinstance(e, http.client.IncompleteRead) else "timeout",
                         f"{type(e).__name__}: {e}") from None


def _fetch_bytes(url: str, opt: FetchOptions, sleep: Callable[[float], None]) -> bytes:
    with tempfile.TemporaryDirectory() as d:
        p = download(url, Path(d) / "body", opt, sleep=sleep)
        return p.read_bytes()


def _safe_file_name(name: str) -> str | None:
    name = urllib.parse.unquote(name)
    return name if _SAFE_NAME_RE.match(name) and ".." not in name else None


@dataclass
class HttpSource:
    """Article packages from an HTTP(S) server laid out like the PMC Cloud Service (default: the real one).

    `fetch(pmcid, dest_root)` reads `<base>/<PMCID>.<v>/<PMCID>.<v>.json` (version: given, or the latest
    one listed by S3 ListObjectsV2, else 1), then downloads the XML and the media files it names (MD5
    checked; files already there with the right MD5 are kept), into dest_root/<PMCID>.<v>/.
    `media`: "images" (default), "figures" (only images whose stem is a figure graphic href of the XML),
    "all", or "none". Without a JSON manifest (a plain static mirror), pass `files=[...]`: names fetched
    from `<base>/<prefix>/<name>`.
    """

    base_url: str = PMC_CLOUD_BASE
    options: FetchOptions = field(default_factory=FetchOptions)
    list_versions_enabled: bool = True
    sleep: Callable[[float], None] = time.sleep

    def _url(self, key: str) -> str:
        return self.base_url.rstrip("/") + "/" + "/".join(urllib.parse.quote(p) for p in key.split("/"))

    def _key_from_s3(self, url: str) -> str:
        """s3://pmc-oa-opendata/PMC1.1/gr1.jpg?md5=... -> PMC1.1/gr1.jpg (an http(s) URL -> its path)."""
        u = urllib.parse.urlsplit(url)
        path = u.path.lstrip("/")
        if u.scheme in ("http", "https") and path.startswith(PMC_BUCKET + "/"):
            path = path[len(PMC_BUCKET) + 1:]
        return urllib.parse.unquote(path)

    def list_versions(self, pmcid: str) -> list[int]:
        pmc, _ = normalize_pmcid(pmcid)
        q = urllib.parse.urlencode({"list-type": "2", "prefix": f"{pmc}.", "delimiter": "/"})
        body = _fetch_bytes(self.base_url.rstrip("/") + "/?" + q, self.options, self.sleep)
        try:
            root = etree.fromstring(body, etree.XMLParser(resolve_entities=False, no_network=True,
                                                          load_dtd=False, huge_tree=False))
        except etree.XMLSyntaxError as e:
            raise FetchError("bad_listing", str(e), pmc) from e
        versions = set()
        for el in root.iter():
            if isinstance(el.tag, str) and el.tag.rsplit("}", 1)[-1] == "Prefix" and el.text:
                m = re.match(rf"^{pmc}\.(\d+)/?$", el.text.strip())
                if m:
                    versions.add(int(m.group(1)))
        return sorted(versions)

    def metadata(self, pmcid: str, version: int) -> dict:
        pmc, _ = normalize_pmcid(pmcid)
        prefix = f"{pmc}.{version}"
        body = _fetch_bytes(self._url(f"{prefix}/{prefix}.json"), self.options, self.sleep)
        try:
            meta = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise FetchError("bad_metadata", str(e), prefix) from e
        if not isinstance(meta, dict):
            raise FetchError("bad_metadata", "not a JSON object", prefix)
        return meta

    def _resolve_version(self, pmc: str, version: int | None) -> int:
        if version is not None:
            return version
        if self.list_versions_enabled:
            try:
                vs = self.list_versions(pmc)
            except FetchError:
                vs = []
            if vs:
                return vs[-1]
        return 1

    def fetch(self, pmcid: str, dest_root: str | os.PathLike, *, version: int | None = None,
              media: str = "images", files: list[str] | None = None) -> ArticlePackage:
        pmc, v = normalize_pmcid(pmcid)
        version = self._resolve_version(pmc, version if version is not None else v)
        prefix = f"{pmc}.{version}"
        dest = Path(dest_root) / prefix
        skipped: list[tuple[str, str]] = []
        try:
            if files is not None:
                xml_name = _pick_xml(files, pmc)
                wanted = [(n, f"{prefix}/{n}", None) for n in sorted(files, key=lambda n: n != xml_name)]
            else:
                meta = self.metadata(pmc, version)
                xml_url = meta.get("xml_url")
                if not xml_url:
                    raise FetchError("no_xml", "metadata has no xml_url", prefix)
                wanted = []
                for u in [xml_url] + list(meta.get("media_urls") or []):
                    key = self._key_from_s3(u)
                    md5 = urllib.parse.parse_qs(urllib.parse.urlsplit(u).query).get("md5", [None])[0]
                    wanted.append((key.rsplit("/", 1)[-1], key, md5))
                xml_name = wanted[0][0]
            if not xml_name:
                raise FetchError("no_xml", "no .xml/.nxml among the files", prefix)
            got: dict[str, Path] = {}
            for name, key, md5 in wanted:
                safe = _safe_file_name(name)
                if safe is not None and (not key.startswith(prefix + "/") or ".." in key.split("/")
                                         or "\\" in key):
                    safe = None  # a file outside this article's prefix
                if safe is None:
                    skipped.append((name, "unsafe_name"))
                    continue
                is_xml = name == xml_name
                if not is_xml and not self._want_media(safe, media, got.get(xml_name)):
                    skipped.append((safe, f"media={media}"))
                    continue
                target = dest / safe
                if md5 and target.is_file() and file_digest(target, "md5") == md5.lower():
                    got[safe] = target  # complete from an earlier run
                    continue
                try:
                    got[safe] = download(self._url(key), target, self.options, md5=md5, sleep=self.sleep)
                except FetchError as e:
                    if is_xml:
                        raise
                    skipped.append((safe, e.reason))
        except FetchError as e:
            e.unit = e.unit or prefix
            raise
        return ArticlePackage(pmcid=pmc, xml_path=got[xml_name], files=got, source=self._url(prefix + "/"),
                              version=version, skipped=skipped)

    @staticmethod
    def _want_media(name: str, media: str, xml_path: Path | None) -> bool:
        low = name.lower()
        if media == "all":
            return True
        if media == "none":
            return False
        if not low.endswith(IMAGE_SUFFIXES):
            return False
        if media == "images":
            return True
        if media == "figures":
            stems = _figure_stems(xml_path)
            return stems is None or low.rsplit(".", 1)[0] in stems
        raise ValueError(f"media must be images|figures|all|none, not {media!r}")

    def fetch_tar(self, url: str, download_dir: str | os.PathLike, extract_dir: str | os.PathLike,
                  pmcid: str | None = None, limits: TarLimits | None = None) -> ArticlePackage:
        """A legacy .tar.gz package from any http(s) URL, downloaded then safely extracted."""
        _check_url(url)
        name = _safe_file_name(urllib.parse.urlsplit(url).path.rsplit("/", 1)[-1])
        if not name:
            raise FetchError("unsafe_name", url, url=url)
        archive = download(url, Path(download_dir) / name, self.options, sleep=self.sleep)
        return package_from_tar(archive, extract_dir, pmcid=pmcid, limits=limits)


_FIG_STEMS_CACHE: dict[str, set[str] | None] = {}


def _figure_stems(xml_path: Path | None) -> set[str] | None:
    """Lower-case stems of the figure graphic hrefs of an article; None when the XML cannot be read."""
    if xml_path is None:
        return None
    key = str(xml_path)
    if key not in _FIG_STEMS_CACHE:
        from mednarratives.articles.jats import JatsParseError, graphic_hrefs
        with contextlib.suppress(JatsParseError):
            _FIG_STEMS_CACHE[key] = {h.rsplit("/", 1)[-1].lower().rsplit(".", 1)[0]
                                     if h.lower().endswith(IMAGE_SUFFIXES) else h.rsplit("/", 1)[-1].lower()
                                     for h in graphic_hrefs(xml_path)}
        _FIG_STEMS_CACHE.setdefault(key, None)
        if len(_FIG_STEMS_CACHE) > 64:
            _FIG_STEMS_CACHE.pop(next(iter(_FIG_STEMS_CACHE)))
    return _FIG_STEMS_CACHE[key]


def open_package(source: str | os.PathLike, extract_dir: str | os.PathLike | None = None,
                 limits: TarLimits | None = None) -> ArticlePackage:
    """A local package of any kind: a .tar.gz/.tgz/.tar, a folder, or a single .nxml/.xml file."""
    p = Path(source)
    if p.is_dir():
        return package_from_folder(p)
    if not p.is_file():
        raise PackageError("not_found", str(p), p.name)
    if p.name.lower().endswith((".tar.gz", ".tgz", ".tar")):
        if extract_dir is None:
            raise PackageError("no_extract_dir", "a tar package needs extract_dir", p.name)
        return package_from_tar(p, extract_dir, limits=limits)
    if p.name.lower().endswith(XML_SUFFIXES):
        return ArticlePackage(pmcid=_pmcid_from_name(p.name) or p.name.rsplit(".", 1)[0], xml_path=p,
                              files={p.name: p}, source=str(p))
    raise PackageError("unknown_package", f"not a .tar.gz, folder or XML: {p.name}", p.name)
