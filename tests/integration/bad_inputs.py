"""Generators of bad inputs, one per case of the reliability suite; each returns the files it wrote.

Videos go to a folder of a local video source, articles to a folder of local article packages; every case
must end in the ledger with a reason while the other units of the run go on.
"""

from __future__ import annotations

import io
import os
import subprocess
import tarfile
from pathlib import Path

from PIL import Image

FFMPEG = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y"]


def _ffmpeg(*args: str) -> None:
    subprocess.run([*FFMPEG, *args], check=True, timeout=120)


def bad_videos(folder: Path, speech_wav: Path | None = None, medical_video: Path | None = None,
               lecture_wav: Path | None = None) -> dict[str, str]:
    """video id -> the case it stands for. Non-English case: `speech_wav` (German) over `medical_video`'s
    pictures, so that only the language is wrong; off-topic case: `lecture_wav` (an English lecture on computing)
    over the same pictures, so that only what is said is wrong."""
    folder.mkdir(parents=True, exist_ok=True)
    cases = {}
    (folder / "bad_corrupt.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + os.urandom(4096))
    cases["bad_corrupt"] = "corrupt video"
    (folder / "bad_empty.mp4").write_bytes(b"")
    cases["bad_empty"] = "zero-length file"
    _ffmpeg("-f", "lavfi", "-i", "testsrc=size=320x240:rate=10:duration=70", "-c:v", "libx264",
            "-preset", "ultrafast", str(folder / "bad_no_audio.mp4"))
    cases["bad_no_audio"] = "video without audio"
    _ffmpeg("-f", "lavfi", "-i", "color=c=gray:size=64x64:rate=1:duration=10800", "-f", "lavfi",
            "-i", "anullsrc=r=8000:cl=mono", "-t", "10800", "-c:v", "libx264", "-preset", "ultrafast",
            "-c:a", "aac", "-b:a", "8k", str(folder / "bad_three_hours.mp4"))
    cases["bad_three_hours"] = "absurd duration"
    _ffmpeg("-f", "lavfi", "-i", "color=c=gray:size=8192x64:rate=1:duration=90", "-f", "lavfi",
            "-i", "anullsrc=r=8000:cl=mono", "-t", "90", "-c:v", "libx264", "-preset", "ultrafast",
            "-c:a", "aac", "-b:a", "8k", str(folder / "bad_absurd_resolution.mp4"))
    cases["bad_absurd_resolution"] = "absurd resolution"
    if speech_wav is not None and medical_video is not None:
        _ffmpeg("-i", str(medical_video), "-stream_loop", "-1", "-i", str(speech_wav), "-map", "0:v", "-map", "1:a",
                "-shortest", "-c:v", "copy", "-c:a", "aac", str(folder / "bad_german_speech.mp4"))
        cases["bad_german_speech"] = "non-English speech"
    if lecture_wav is not None and medical_video is not None:
        _ffmpeg("-i", str(medical_video), "-stream_loop", "-1", "-i", str(lecture_wav), "-map", "0:v", "-map", "1:a",
                "-shortest", "-c:v", "copy", "-c:a", "aac", str(folder / "bad_off_topic_narration.mp4"))
        cases["bad_off_topic_narration"] = "English narration that is not medical"
    return cases


def german_speech(path: Path) -> Path:
    text = ("Guten Tag. Heute sprechen wir über das Wetter in den Bergen und über die Geschichte der Stadt. "
            "Danach gehen wir gemeinsam in den Garten und trinken einen Kaffee.")
    subprocess.run(["espeak-ng", "-v", "de", "-w", str(path), text], check=True, timeout=60)
    return path


def off_topic_lecture(path: Path) -> Path:
    text = ("Welcome to this course on deep learning. In the first week we install Python and write a small program "
            "that reads a table of numbers, plots them as a chart and fits a straight line. Then we build a neural "
            "network with two layers, train it on pictures of handwritten digits and watch the loss go down. Later "
            "we draw maps of cities, store the data in a database and learn how an operating system schedules "
            "processes and threads.")
    subprocess.run(["espeak-ng", "-v", "en-us", "-w", str(path), text], check=True, timeout=60)
    return path


NXML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
ARTICLE = """<article xmlns:xlink="http://www.w3.org/1999/xlink"><front><article-meta>
<article-id pub-id-type="pmc">{pmcid}</article-id></article-meta></front>
<body><p>As shown in Fig. 1, the lesion is visible.</p></body>
<floats-group><fig id="F1"><label>Figure 1</label><caption>{caption}</caption>
<graphic xlink:href="{graphic}"/></fig></floats-group></article>"""


def _tar(path: Path, members: list[tuple[tarfile.TarInfo, bytes | None]]) -> None:
    with tarfile.open(path, "w:gz") as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)


def _file(name: str, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def _jpeg(size=(64, 64)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (90, 90, 90)).save(buf, "JPEG")
    return buf.getvalue()


def _package(folder: Path, pmcid: str, nxml: str, extra: list[tuple[tarfile.TarInfo, bytes | None]] = ()) -> None:
    members = [_file(f"{pmcid}/{pmcid}.nxml", nxml.encode()), *extra]
    _tar(folder / f"{pmcid}.tar.gz", members)


def bad_articles(folder: Path) -> dict[str, str]:
    """article id -> the case it stands for."""
    folder.mkdir(parents=True, exist_ok=True)
    cases = {}
    ok = lambda pmcid, caption="<p>(A) CT of the head.</p>", graphic="fig1": NXML_HEAD + ARTICLE.format(  # noqa: E731
        pmcid=pmcid, caption=caption, graphic=graphic)
    _package(folder, "PMC9000001", NXML_HEAD + "<article><front><article-meta>" + "<p>unclosed", [])
    cases["PMC9000001"] = "malformed XML"
    xxe = NXML_HEAD + '<!DOCTYPE article [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n' + ARTICLE.format(
        pmcid="PMC9000002", caption="<p>&xxe;</p>", graphic="fig1")
    _package(folder, "PMC9000002", xxe, [_file("PMC9000002/fig1.jpg", _jpeg())])
    cases["PMC9000002"] = "XXE payload"
    lol = "".join(f'<!ENTITY lol{i} "{("&lol%d;" % (i - 1)) * 10 if i else "lol"}">' for i in range(10))
    bomb = NXML_HEAD + f"<!DOCTYPE article [{lol}]>\n" + ARTICLE.format(
        pmcid="PMC9000003", caption="<p>&lol9;</p>", graphic="fig1")
    _package(folder, "PMC9000003", bomb, [_file("PMC9000003/fig1.jpg", _jpeg())])
    cases["PMC9000003"] = "billion-laughs payload"
    link = tarfile.TarInfo("PMC9000004/fig1.jpg")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    _package(folder, "PMC9000004", ok("PMC9000004"), [_file("../../evil.txt", b"escaped"), (link, None)])
    cases["PMC9000004"] = "tar with ../ paths and a symlink out"
    big = io.BytesIO()
    Image.new("1", (30000, 30000)).save(big, "PNG")  # ~100 KB file, 900 MP when decoded
    _package(folder, "PMC9000005", ok("PMC9000005", graphic="fig1"), [_file("PMC9000005/fig1.png", big.getvalue())])
    cases["PMC9000005"] = "decompression-bomb image"
    _package(folder, "PMC9000006", ok("PMC9000006", graphic="missing"), [])
    cases["PMC9000006"] = "figure whose graphic is missing"
    _package(folder, "PMC9000007", ok("PMC9000007", caption=""), [_file("PMC9000007/fig1.jpg", _jpeg())])
    cases["PMC9000007"] = "caption with no text"
    (folder / "PMC9000008.tar.gz").write_bytes(b"")
    cases["PMC9000008"] = "zero-length package"
    return cases
