"""Tiny stand-ins for the paper benchmark's datasets, each in its publisher's on-disk format, below one
``data_root`` laid out as ``config/benchmark/paper.yaml`` expects (file names, folder nesting, CSV headers,
DICOM, HDF5). For tests and for trying the paper registry without the real data:
``python -m mednarratives.benchmark.fixtures <data_root> --registry config/benchmark/paper.yaml [--per-class N]``.
Images are small random textures tinted by class.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import yaml
from PIL import Image

SIZE = 24


class _Writer:
    def __init__(self, root: Path, registry: Path, per_class: int, seed: int):
        self.root, self.per_class = root, per_class
        self.datasets = yaml.safe_load(registry.read_text(encoding="utf-8"))["datasets"]
        self.rng = np.random.default_rng(seed)

    def classes(self, name: str) -> list[str]:
        """The class names the registry's entry `name` lists."""
        return list(self.datasets[name]["classes"])

    def pixels(self, label: str, channels: int = 3) -> np.ndarray:
        tint = np.frombuffer(label.encode("utf-8").ljust(3, b"_")[:3], np.uint8).astype(np.int64)
        noise = self.rng.integers(0, 96, (SIZE, SIZE, channels))
        return np.clip(noise + tint[:channels] % 160, 0, 255).astype(np.uint8)

    def image(self, rel: str, label: str) -> str:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(self.pixels(label)).save(path)
        return rel

    def dicom(self, rel: str, label: str, monochrome1: bool = False) -> str:
        from pydicom.dataset import Dataset, FileMetaDataset
        from pydicom.uid import ExplicitVRLittleEndian, SecondaryCaptureImageStorage, generate_uid

        arr = (self.pixels(label, 1)[..., 0].astype(np.uint16) * 16)   # 12-bit grey values
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = Dataset()
        ds.file_meta = meta
        ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
        ds.Modality = "DX"
        ds.Rows, ds.Columns = arr.shape
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME1" if monochrome1 else "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
        ds.PixelData = arr.tobytes()
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        ds.save_as(path, enforce_file_format=True)
        return rel

    def csv(self, rel: str, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            if header:
                w.writerow(header)
            w.writerows(rows)

    def folder(self, rel: str, classes: Sequence[str], name: Callable[[str, int], str] = lambda c, i: f"{i:04d}.png"):
        for c in classes:
            for i in range(self.per_class):
                self.image(f"{rel}/{c}/{name(c, i)}", c)


def vindr_cxr(w: _Writer) -> None:
    classes = w.classes("vindr_cxr")
    rows = []
    for i in range(3 * w.per_class):
        positive = {classes[i % len(classes)], classes[(3 * i + 1) % len(classes)]}
        image_id = f"{i:032x}"
        w.dicom(f"vindr-cxr/test/{image_id}.dicom", sorted(positive)[0], monochrome1=i % 2 == 1)
        rows.append([image_id] + [int(c in positive) for c in classes])
    w.csv("vindr-cxr/annotations/image_labels_test.csv", ["image_id"] + classes, rows)


def radimagenet(w: _Writer) -> None:
    anatomies = {"CT": ["lung", "abd"], "MR": ["af", "brain", "hip", "knee", "abd", "shoulder", "spine"],
                 "US": ["thyroid", "ovary"]}
    for modality, names in anatomies.items():
        for anatomy in names:
            w.folder(f"radiology_ai/{modality}/{anatomy}", [f"{anatomy}-normal", f"{anatomy}-pathology"],
                     lambda c, i, a=anatomy: f"{a}{i:06d}.png")


def vindr_mammo(w: _Writer) -> None:
    classes = w.classes("vindr_mammo")
    header = ["image_id", "study_id", "series_id", "laterality", "view_position", "height", "width", "breast_birads",
              "breast_density", "finding_categories", "finding_birads", "xmin", "ymin", "xmax", "ymax", "split"]
    rows = []
    for i in range(4 * w.per_class):
        study, image_id = f"s{i // 2:031x}", f"{i:032x}"
        split = "test" if i % 4 < 2 else "training"
        view = "CC" if i % 2 == 0 else "MLO"
        w.dicom(f"vindr-mammo/images/{study}/{image_id}.dicom", view)
        findings = [["No Finding"], [classes[i % len(classes)]], [classes[0], classes[1]]][i % 3]
        rows.append([image_id, study, f"r{i}", "L", view, SIZE, SIZE, "BI-RADS 2", "DENSITY C", repr(findings),
                     "", "", "", "", "", split])
        if i % 3 == 1:   # a second finding of the same image: a row of its own
            rows.append([image_id, study, f"r{i}", "L", view, SIZE, SIZE, "BI-RADS 4", "DENSITY C",
                         repr([classes[2]]), "BI-RADS 4", 1.0, 2.0, 10.0, 12.0, split])
    w.csv("vindr-mammo/finding_annotations.csv", header, rows)


def g1020(w: _Writer) -> None:
    rows = []
    for i in range(2 * w.per_class):
        rows.append([w.image(f"G1020/Images/image_{i}.jpg", str(i % 2)).split("/")[-1], i % 2])
    w.csv("G1020/G1020.csv", ["imageID", "binaryLabels"], rows)


def octdl(w: _Writer) -> None:
    w.folder("OCTDL", w.classes("octdl"), lambda c, i: f"{c.lower()}_{i:04d}_0.jpg")


def ddi(w: _Writer) -> None:
    rows = []
    for i in range(2 * w.per_class):
        malignant = i % 2 == 1
        rows.append([i, i + 1, w.image(f"ddi/{i + 1:06d}.png", str(malignant)).split("/")[-1], 12 + 22 * (i % 3),
                     str(malignant), "melanoma-in-situ" if malignant else "seborrheic-keratosis"])
    w.csv("ddi/ddi_metadata.csv", ["", "DDI_ID", "DDI_file", "skin_tone", "malignant", "disease"], rows)


def isic(w: _Writer) -> None:
    classes = w.classes("isic")
    for part in ("Training", "Validation", "Test"):
        rows = []
        for i in range(len(classes) * w.per_class):
            image = f"ISIC_{part[:2].upper()}{i:05d}"
            label = classes[i % len(classes)]
            w.image(f"isic2018/ISIC2018_Task3_{part}_Input/{image}.jpg", label)
            rows.append([image] + [f"{float(c == label):.1f}" for c in classes])
        w.csv(f"isic2018/ISIC2018_Task3_{part}_GroundTruth/ISIC2018_Task3_{part}_GroundTruth.csv",
              ["image"] + classes, rows)


def gastrovision(w: _Writer) -> None:
    w.folder("Gastrovision", ["Normal stomach", "Colon polyps", "Esophagitis"], lambda c, i: f"{i:08x}-0000.jpg")


def dresden(w: _Writer) -> None:
    for organ in ("colon", "liver", "pancreas", "small_intestine", "spleen", "stomach", "ureter", "vesicular_glands",
                  "abdominal_wall", "multilabel"):
        for i in range(w.per_class):
            w.image(f"dresden/{organ}/{i + 1:02d}/image{i:02d}.png", organ)
            w.image(f"dresden/{organ}/{i + 1:02d}/mask{i:02d}.png", "mask")


def dental(w: _Writer) -> None:
    w.folder("dental_opg", ["BDC-BDR", "Caries", "Fractured Teeth", "Healthy Teeth", "Impacted teeth", "Infection"],
             lambda c, i: f"{i:03d}.jpg")


def tcga_til(w: _Writer) -> None:
    for tumour in ("brca", "luad"):
        w.folder(f"tcga-til/{tumour}", ["til-negative", "til-positive"], lambda c, i, t=tumour: f"{t}_{c}_{i}.png")


def pcam(w: _Writer) -> None:
    import h5py

    for part in ("train", "valid", "test"):
        n = 2 * w.per_class
        y = np.arange(n) % 2
        x = np.stack([w.pixels(str(v)) for v in y])
        base = w.root / "pcam" / f"camelyonpatch_level_2_split_{part}"
        base.parent.mkdir(parents=True, exist_ok=True)
        with h5py.File(f"{base}_x.h5", "w") as fh:
            fh.create_dataset("x", data=x)
        with h5py.File(f"{base}_y.h5", "w") as fh:
            fh.create_dataset("y", data=y.astype(np.uint8).reshape(n, 1, 1, 1))


def lc25000(w: _Writer) -> None:
    w.folder("lung_colon_image_set/lung_image_sets", w.classes("lc25000_lung"),
             lambda c, i: f"{c.replace('_', '')}{i + 1}.jpeg")
    w.folder("lung_colon_image_set/colon_image_sets", w.classes("lc25000_colon"),
             lambda c, i: f"{c.replace('_', '')}{i + 1}.jpeg")


def nck(w: _Writer) -> None:
    for part in ("NCT-CRC-HE-100K", "CRC-VAL-HE-7K"):
        w.folder(part, w.classes("nck"), lambda c, i, p=part: f"{c}-{p[:3]}{i:04d}.tif")


def skin(w: _Writer) -> None:
    classes = w.classes("skin")
    rows = []
    for i in range(len(classes) * w.per_class):
        label = classes[i % len(classes)]
        split = "Test" if i < len(classes) or i % 2 else "Train"
        rel = w.image(f"skincancer/tiles/slide{i % 3}/{i:08x}.png", label)
        rows.append([f"{i:08x}", rel.split("/", 1)[1], 100 * i, 0, f"slide{i % 3}", label, split,
                     "malign" if label.startswith("tumor") else "benign"])
    w.csv("skincancer/tiles-v2.csv", ["uuid", "file", "x", "y", "slide", "class", "set", "malignicy"], rows)


def mhist(w: _Writer) -> None:
    rows = []
    for i in range(4 * w.per_class):
        label = ("HP", "SSA")[i % 2]
        name = w.image(f"mhist/images/MHIST_{i:03x}.png", label).split("/")[-1]
        rows.append([name, label, 2 if label == "HP" else 6, "test" if i % 4 >= 2 else "train"])
    w.csv("mhist/annotations.csv", ["Image Name", "Majority Vote Label",
                                    "Number of Annotators who Selected SSA (Out of 7)", "Partition"], rows)


def bach(w: _Writer) -> None:
    classes = w.classes("bach")
    w.folder("ICIAR2018_BACH_Challenge/Photos", classes, lambda c, i: f"{c[:2].lower()}{i + 1:03d}.tif")
    w.csv("ICIAR2018_BACH_Challenge/Photos/microscopy_ground_truth.csv", [],
          [[f"{c[:2].lower()}{i + 1:03d}.tif", c] for c in classes for i in range(w.per_class)])


def osteo(w: _Writer) -> None:
    labels = ["Non-Tumor", "Viable", "Non-Viable-Tumor", "viable: non-viable"]
    rows = []
    for i in range(len(labels) * w.per_class):
        name = f"Case-{3 + i % 2}-A{i:02d}-{1000 * i}-{2000 * i}"
        w.image(f"osteosarcoma/Training-Set-{1 + i % 2}/set{1 + i % 2}/Case-{3 + i % 2}/{name}.jpg", labels[i % 4])
        rows.append([name, 0.5, 0.25, labels[i % 4]])
    w.csv("osteosarcoma/ML_Features_1144.csv", ["image.name", "Nuclei.Area", "Nuclei.Perimeter", "classification"],
          rows)


WRITERS: dict[str, Callable[[_Writer], None]] = {
    f.__name__: f for f in (vindr_cxr, radimagenet, vindr_mammo, g1020, octdl, ddi, isic, gastrovision, dresden,
                            dental, tcga_til, pcam, lc25000, nck, skin, mhist, bach, osteo)}


def write_paper_fixtures(data_root: str | os.PathLike, registry: str | os.PathLike, per_class: int = 2,
                         seed: int = 0) -> Path:
    """Every dataset of the paper registry (the file ``registry``), ``per_class`` images per class, below
    ``data_root``."""
    root = Path(data_root)
    w = _Writer(root, Path(registry), per_class, seed)
    for write in WRITERS.values():
        write(w)
    return root


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data_root", help="folder to write the datasets into (benchmark.data_root)")
    ap.add_argument("--registry", required=True, help="the paper registry (config/benchmark/paper.yaml)")
    ap.add_argument("--per-class", type=int, default=2, help="images per class and split (default 2)")
    args = ap.parse_args()
    print(write_paper_fixtures(args.data_root, args.registry, args.per_class))
