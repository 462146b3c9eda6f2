"""Readers of the publishers' native formats, each on a generated fixture in that format
(mednarratives.benchmark.fixtures), read through the paper registry's entry for it."""

import csv

import numpy as np
import pytest
import yaml

from conftest import PAPER_REGISTRY
from mednarratives.benchmark import evaluate as E
from mednarratives.benchmark import fixtures as F
from mednarratives.benchmark.readers import H5Image, missing_paths, open_image
from mednarratives.benchmark.tables import merge_registries


def _load(tmp_path, writer, *names, per_class=2):
    root = tmp_path / "data"
    F.WRITERS[writer](F._Writer(root, PAPER_REGISTRY, per_class, 0))
    reg = merge_registries([PAPER_REGISTRY], tmp_path / "merged.yaml", root)
    entries, base = E.load_registry(reg)
    return root, [E.load_dataset(n, entries[n], base) for n in names]


def test_imagefolder_class_depth_pattern_and_class_subset(tmp_path):
    root, (dresden,) = _load(tmp_path, "dresden", "dresden")
    test = dresden["test"]
    assert len(test.paths) == 8 * 2 and all(p.name.startswith("image") for p in test.paths)   # masks skipped
    assert {p.parent.parent.name for p in test.paths} == set(test.classes)      # no abdominal_wall, multilabel
    assert test.labels.tolist() == sorted(test.labels.tolist())
    _, (til,) = _load(tmp_path, "tcga_til", "tcga_til")
    assert til["test"].classes == ["til-negative", "til-positive"] and len(til["test"].paths) == 8
    assert til["test"].labels.tolist() == [0] * 4 + [1] * 4                      # two tumour types per class
    _, (us,) = _load(tmp_path, "radimagenet", "radimagenet_us")
    assert us["test"].classes == ["ovary-normal", "ovary-pathology", "thyroid-normal", "thyroid-pathology"]


def test_csv_onehot_dicom_vindr_cxr(tmp_path):
    root, (cxr,) = _load(tmp_path, "vindr_cxr", "vindr_cxr")
    test = cxr["test"]
    with open(root / "vindr-cxr/annotations/image_labels_test.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert test.multilabel and test.labels.shape == (len(rows), 28)
    assert test.labels.tolist() == [[int(r[c]) for c in test.classes] for r in rows]
    assert [p.name for p in test.paths] == [r["image_id"] + ".dicom" for r in rows]
    import pydicom

    for path in test.paths[:2]:   # MONOCHROME2 then MONOCHROME1: 8-bit RGB, MONOCHROME1 inverted
        ds = pydicom.dcmread(path)
        raw = ds.pixel_array.astype(float)
        grey = np.asarray(open_image(path))[..., 0].astype(float)
        assert grey.min() == 0 and grey.max() == 255
        corr = np.corrcoef(raw.ravel(), grey.ravel())[0, 1]
        assert corr > 0.99 if ds.PhotometricInterpretation == "MONOCHROME2" else corr < -0.99


def test_csv_python_list_labels_filters_and_merged_rows_vindr_mammo(tmp_path):
    root, (mammo,) = _load(tmp_path, "vindr_mammo", "vindr_mammo", per_class=3)
    with open(root / "vindr-mammo/finding_annotations.csv") as fh:
        rows = list(csv.DictReader(fh))
    classes = mammo["test"].classes
    for split, name in (("test", "test"), ("train", "training")):
        want: dict[str, set] = {}
        for r in rows:
            if r["view_position"] == "CC" and r["split"] == name:
                want.setdefault(r["image_id"], set()).update(c for c in eval(r["finding_categories"]) if c in classes)
        got = mammo[split]
        assert [p.stem for p in got.paths] == list(want)                  # one item per image, CC only
        assert [{classes[j] for j in np.flatnonzero(row)} for row in got.labels] == list(want.values())
    assert any(not v.any() for v in mammo["test"].labels) or any(not v.any() for v in mammo["train"].labels)


def test_csv_label_map_template_and_split_columns(tmp_path):
    _, (g1020,) = _load(tmp_path, "g1020", "g1020")
    assert g1020["test"].classes == ["normal", "glaucoma"] and g1020["test"].labels.tolist() == [0, 1, 0, 1]
    _, (ddi,) = _load(tmp_path, "ddi", "ddi")
    assert ddi["test"].labels.tolist() == [0, 1, 0, 1] and ddi["test"].paths[0].name == "000001.png"
    _, (mhist,) = _load(tmp_path, "mhist", "mhist")
    assert len(mhist["train"].paths) == len(mhist["test"].paths) == 4
    assert not set(mhist["train"].paths) & set(mhist["test"].paths)
    _, (isic,) = _load(tmp_path, "isic", "isic")
    assert set(isic) == {"train", "val", "test"} and isic["test"].labels.tolist() == list(range(7)) * 2
    _, (skin, tumour) = _load(tmp_path, "skin", "skin", "skin_tumor")
    assert len(skin["test"].classes) == 16 and set(tumour["test"].labels.tolist()) == {0, 1, 2, 3}
    assert all(str(p).endswith(".png") for p in tumour["test"].paths)


def test_csv_find_by_name_osteo(tmp_path):
    root, (osteo,) = _load(tmp_path, "osteo", "osteo")
    test = osteo["test"]
    assert test.classes == ["Non-Tumor", "Viable", "Non-Viable-Tumor"]
    assert test.labels.tolist() == [0, 1, 2, 0, 1, 2]                 # "viable: non-viable" rows left out
    assert all(p.is_file() and p.is_relative_to(root / "osteosarcoma") for p in test.paths)


def test_hdf5_pcam(tmp_path):
    import h5py

    root, (pcam,) = _load(tmp_path, "pcam", "pcam")
    assert set(pcam) == {"train", "val", "test"} and pcam["test"].labels.tolist() == [0, 1, 0, 1]
    ref = pcam["test"].paths[1]
    assert isinstance(ref, H5Image)
    with h5py.File(root / "pcam/camelyonpatch_level_2_split_test_x.h5") as fh:
        assert (np.asarray(open_image(ref)) == fh["x"][1]).all()


def test_every_paper_dataset_reads_and_missing_files_are_named(tmp_path):
    root = F.write_paper_fixtures(tmp_path / "data", PAPER_REGISTRY)
    reg = merge_registries([PAPER_REGISTRY], tmp_path / "merged.yaml", root)
    entries, base = E.load_registry(reg)
    assert len(entries) == 29 and not any(missing_paths(e) for e in entries.values())
    for name, entry in entries.items():
        splits = E.load_dataset(name, entry, base)
        assert set(splits) == set(entry["splits"]) and all(len(s.paths) >= 2 for s in splits.values()), name
    (root / "pcam/camelyonpatch_level_2_split_valid_y.h5").unlink()
    assert missing_paths(entries["pcam"]) == [str(root / "pcam/camelyonpatch_level_2_split_valid_y.h5")]
    with pytest.raises(ValueError, match="data_root"):
        merge_registries([PAPER_REGISTRY], tmp_path / "merged.yaml", None)


def test_bad_reader_options_are_clear_errors(tmp_path):
    root = tmp_path / "d"
    root.mkdir()
    (root / "a.csv").write_text("file,klass\nx.png,a\n")
    entry = yaml.safe_load("{format: csv, path_template: '{file}', label_column: label, splits: {test: a.csv}}")
    with pytest.raises(ValueError, match="columns \\['label'\\] not found"):
        E.load_dataset("x", entry, root)
    with pytest.raises(ValueError, match="unknown format"):
        E.load_dataset("x", {"format": "parquet", "splits": {"test": "a.csv"}}, root)
