"""The demo corpus's PMC Open Access article packages (JATS .nxml + figure JPEGs) and their ground truth.

Articles are planned and rendered by `mednarratives.articles.synthetic`; this module names them and writes the
packages the articles stage reads.
"""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path

from PIL import Image

from mednarratives.articles.synthetic import (ID_BASE, TEXT_PATH, Figure, main_domain, plain, plan_article,
                                              render_figure)
from mednarratives.io import atomic_path, write_json

JPEG_OPTIONS = dict(quality=90, subsampling="4:2:0", optimize=False, progressive=False)


def article_ids(n: int, seed: int) -> list[str]:
    """PMC-style ids PMC9000001...; they depend on n only, so the workflow's jobs are stable across seeds."""
    del seed  # contents depend on the seed (build_article), names do not
    return [f"PMC{ID_BASE + i}" for i in range(n)]


def _jpeg(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", **JPEG_OPTIONS)
    return buf.getvalue()


def _write_tar(path: str, root: str, members: dict[str, bytes]) -> None:
    """Deterministic .tar.gz: a root directory, sorted members, zero times and owners."""
    def info(name: str, size: int = 0, directory: bool = False) -> tarfile.TarInfo:
        ti = tarfile.TarInfo(name)
        ti.size, ti.mtime, ti.uid, ti.gid, ti.uname, ti.gname = size, 0, 0, 0, "", ""
        ti.type, ti.mode = (tarfile.DIRTYPE, 0o755) if directory else (tarfile.REGTYPE, 0o644)
        return ti

    with atomic_path(path) as tmp, open(tmp, "wb") as raw, \
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz, \
            tarfile.open(fileobj=gz, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        tar.addfile(info(root, directory=True))
        for name in sorted(members):
            tar.addfile(info(name, len(members[name])), io.BytesIO(members[name]))


def _figure_truth(fig: Figure, member: str, label_boxes: list) -> dict:
    return dict(
        id=fig.fig_id, label=fig.label, graphic=fig.graphic, file=member, width=fig.size[0], height=fig.size[1],
        medical=any(p.domain for p in fig.panels), domain=main_domain(fig.panels),
        caption=plain(fig.caption_xml), caption_label_style=fig.style, shared_context=fig.shared,
        panels=[dict(label=p.label, box=list(p.box), label_drawn=p.drawn is not None,
                     label_text=p.drawn.text if p.drawn else None, label_box=lb, subcaption=sub,
                     source=p.source, domain=p.domain, medical=p.domain is not None)
                for p, lb, sub in zip(fig.panels, label_boxes, fig.subcaptions)],
    )


def build_article(article_id: str, seed: int, out_tar: str, out_truth: str, text_path: str | Path = TEXT_PATH) -> None:
    """Write {article_id}.tar.gz ({id}/{id}.nxml + figure JPEGs) and its ground-truth JSON."""
    art = plan_article(article_id, seed, text_path)
    members = {f"{article_id}/{article_id}.nxml": art.xml.encode("utf-8")}
    figures = []
    for fig in art.figures:
        img, label_boxes = render_figure(fig)
        member = f"{article_id}/{fig.graphic.removesuffix('.jpg')}.jpg"
        members[member] = _jpeg(img)
        figures.append(_figure_truth(fig, member, label_boxes))
    _write_tar(out_tar, article_id, members)
    write_json(out_truth, dict(article_id=article_id, pmcid=article_id, title=art.title, license=art.license,
                               figures=figures, citations=art.citations))
