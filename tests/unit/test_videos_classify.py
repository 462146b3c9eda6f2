"""Domain classifiers: Table 5 presets, models built offline, a tiny training run on a generated ImageFolder,
the saved bundle's predict() interface, and the demo ImageFolder builder."""

from __future__ import annotations

import random

import numpy as np
import pytest
from PIL import Image

from mednarratives import settings
from mednarratives.videos import classify as C


def test_table5_presets():
    r = C.hparams("resnet50")
    assert (r["batch_size"], r["epochs"], r["lr"], r["momentum"], r["weight_decay"], r["img_size"]) == \
        (256, 10, 1e-2, 0.9, 1e-4, 224)
    v = C.hparams("vit_small")
    assert (v["batch_size"], v["epochs"], v["lr"], v["schedule"], v["img_size"], v["crop_scale"], v["hflip"]) == \
        (32, 100, 1e-3, "cosine", 384, [0.98, 1.0], True)
    assert C.hparams("resnet50", {"epochs": 2, "lr": None})["epochs"] == 2
    with pytest.raises(ValueError):
        C.hparams("resnet9000")


def test_models_build_without_download():
    import torch

    for arch, size in (("resnet50", 64), ("tiny_cnn", 32)):
        m = C.build_model(arch, size).eval()
        with torch.no_grad():
            assert m(torch.zeros(1, 3, size, size)).shape == (1, 1)
    vit = C.build_model("vit_small", 64)
    assert sum(p.numel() for p in vit.parameters()) > 20_000_000   # ViT-Small, ~22M parameters


def _folder(root, n=12):
    rng = np.random.default_rng(0)
    for split, count in (("train", n), ("val", 4)):
        for cls in ("ct", "histopathology", "non_medical"):
            d = root / split / cls
            d.mkdir(parents=True)
            for i in range(count):
                a = rng.integers(0, 40, (32, 32, 3)).astype(np.uint8)
                if cls == "ct":
                    a[8:24, 8:24] = 230              # a bright square
                elif cls == "histopathology":
                    a[..., 0] = 200                  # pink-red
                Image.fromarray(a).save(d / f"{i}.png")


def test_train_save_load_predict(tmp_path):
    _folder(tmp_path / "data")
    metrics = C.train(tmp_path / "data", tmp_path / "m.pt", tmp_path / "m.json", "tiny_cnn",
                      {"epochs": 6, "img_size": 32}, seed=1, log=lambda *_: None)
    assert set(metrics["domains"]) == {"ct", "histopathology"}
    clf = C.load_classifier(tmp_path / "m.pt")
    assert clf.domains == ["ct", "histopathology"]
    ims = [Image.open(tmp_path / "data" / "val" / c / "0.png") for c in ("ct", "histopathology", "non_medical")]
    probs = clf.predict(ims)
    assert all(set(p) == {"ct", "histopathology", "non_medical"} for p in probs)
    assert probs[0]["ct"] > 0.5 and probs[1]["histopathology"] > 0.5
    assert probs[2]["non_medical"] > 0.5
    assert metrics["domains"]["ct"]["val_accuracy"] >= 0.75
    assert clf.predict([]) == []
    # deterministic: the same seed gives the same weights
    C.train(tmp_path / "data", tmp_path / "m2.pt", tmp_path / "m2.json", "tiny_cnn", {"epochs": 6, "img_size": 32},
            seed=1, log=lambda *_: None)
    assert C.load_classifier(tmp_path / "m2.pt").predict(ims) == probs


def test_folder_without_domain_classes_is_an_error(tmp_path):
    (tmp_path / "d" / "cats").mkdir(parents=True)
    Image.new("RGB", (8, 8)).save(tmp_path / "d" / "cats" / "a.png")
    with pytest.raises(ValueError):
        C.train(tmp_path / "d", tmp_path / "m.pt", tmp_path / "m.json", "tiny_cnn", {"epochs": 1})


def test_demo_imagefolder(tmp_path):
    counts = C.build_demo_imagefolder(tmp_path, seed=3, per_class=4, val_share=0.25)
    classes = {k.split("/")[1] for k in counts}
    assert {"ct", "mri", "xray", "ultrasound", "ophthalmology", "histopathology", "non_medical"} <= classes
    assert counts["train/ct"] == 3 and counts["val/ct"] == 1
    again = tmp_path / "again"
    C.build_demo_imagefolder(again, seed=3, per_class=4, val_share=0.25)
    a = np.asarray(Image.open(tmp_path / "train" / "mri" / "mri_0001.png"))
    b = np.asarray(Image.open(again / "train" / "mri" / "mri_0001.png"))
    assert np.array_equal(a, b)


def test_pretrained_features_and_head(tmp_path):
    """EfficientNet-Lite0 loads its ImageNet weights offline; the logistic head learns the generated classes."""
    import torch

    model = C.effnet_lite0()
    with torch.no_grad():
        assert model(torch.zeros(1, 3, 64, 64)).shape == (1, 1280)
    _folder(tmp_path / "data")
    metrics = C.train(tmp_path / "data", tmp_path / "m.pt", tmp_path / "m.json", "effnet_lite0",
                      {"img_size": 64, "views": 2}, seed=1, log=lambda *_: None)
    assert metrics["val_accuracy"] >= 0.9 and metrics["classes"] == {"ct": 12, "histopathology": 12, "non_medical": 12}
    clf = C.load_classifier(tmp_path / "m.pt")
    assert clf.domains == ["ct", "histopathology"] and clf.head.blocks == [5, 6]  # the schema's feature_blocks
    ims = [Image.open(tmp_path / "data" / "val" / c / "1.png") for c in ("ct", "histopathology", "non_medical")]
    probs = clf.predict(ims)
    assert [max(p, key=p.get) for p in probs] == ["ct", "histopathology", "non_medical"]
    assert all(abs(sum(p.values()) - 1) < 1e-3 for p in probs)


def test_fine_tuning_moves_the_last_convolution_from_the_logistic_fit(tmp_path):
    """tune_epochs fine-tunes conv_head and its BatchNorm's scale and shift (running statistics kept) with the head,
    saved in the bundle and used at inference; 0 keeps the frozen backbone; two classes (sklearn's one logit) tune
    too."""
    import torch

    _folder(tmp_path / "data")
    pretrained = C.head_layers().state_dict()
    ims = [Image.open(tmp_path / "data" / "val" / c / "2.png") for c in ("ct", "histopathology", "non_medical")]
    for epochs in (0, 3):
        C.train(tmp_path / "data", tmp_path / f"m{epochs}.pt", tmp_path / f"m{epochs}.json", "effnet_lite0",
                {"img_size": 64, "views": 2, "tune_epochs": epochs}, seed=1, log=lambda *_: None)
    frozen, tuned = (torch.load(tmp_path / f"m{e}.pt", weights_only=False)["head"] for e in (0, 3))
    assert "tuned" not in frozen and C.load_classifier(tmp_path / "m0.pt").head.layers is None
    state = tuned["tuned"]
    assert not torch.allclose(state["0.weight"], pretrained["0.weight"])
    assert not torch.allclose(state["1.weight"], pretrained["1.weight"])
    assert torch.equal(state["1.running_mean"], pretrained["1.running_mean"])
    assert not np.allclose(tuned["coef"], frozen["coef"])
    clf = C.load_classifier(tmp_path / "m3.pt")
    assert not np.allclose(C.features(ims, 64, [5, 6], layers=clf.head.layers), C.features(ims, 64, [5, 6]))
    assert [max(p, key=p.get) for p in clf.predict(ims)] == ["ct", "histopathology", "non_medical"]
    assert np.allclose(C.features(ims, 64, [5, 6], layers=C.head_layers()), C.features(ims, 64, [5, 6]), atol=1e-5)

    binary = tmp_path / "binary"
    for split in ("train", "val"):
        for cls in ("ct", "non_medical"):
            (binary / split / cls).mkdir(parents=True)
            for f in (tmp_path / "data" / split / cls).iterdir():
                (binary / split / cls / f.name).write_bytes(f.read_bytes())
    metrics = C.train(binary, tmp_path / "b.pt", tmp_path / "b.json", "effnet_lite0",
                      {"img_size": 64, "views": 2, "tune_epochs": 2}, seed=1, log=lambda *_: None)
    assert metrics["val_accuracy"] >= 0.9
    probs = C.load_classifier(tmp_path / "b.pt").predict(ims[::2])
    assert [max(p, key=p.get) for p in probs] == ["ct", "non_medical"]
    assert all(abs(sum(p.values()) - 1) < 1e-3 for p in probs)


def test_features_pool_stages():
    """Stage outputs pooled before the 1280-d head features, which stay those of the head alone; a head saved
    without `blocks` (older bundles) reads the head features alone."""
    ims = [np.random.default_rng(k).integers(0, 255, (48, 80, 3), np.uint8) for k in range(3)]
    both = C.features(ims, 64, [5, 6])
    alone = C.features(ims, 64)
    assert both.shape == (3, 192 + 320 + 1280) and alone.shape == (3, 1280)
    assert np.allclose(both[:, -1280:], alone, atol=1e-5)
    assert not np.allclose(both[:, :192], both[:, 192:384][:, :192])
    assert C.FeatureHead({"classes": ["a", "b"], "mean": 0, "scale": 1, "coef": np.zeros((1, 1280)),
                          "intercept": np.zeros(1)}, 64).blocks == []


def test_ct_windows_and_false_colour():
    """HU windows from the modality LUT: air is black in every window, a narrow brain window saturates bone
    that a bone window still grades; a colour map turns grey levels into its colours."""
    brain = C.ct_window("CT_small.dcm", 40, 80)[:, :, 0]
    bone = C.ct_window("CT_small.dcm", 400, 1800)[:, :, 0]
    assert brain.shape == bone.shape == (128, 128)
    assert (brain == 255).mean() > (bone == 255).mean()
    assert len(np.unique(bone)) > len(np.unique(brain[brain < 255]))
    ramp = Image.fromarray(np.tile(np.arange(256, dtype=np.uint8), (4, 1)))
    jet = np.asarray(C.false_colour(ramp, "jet")).astype(int)
    assert jet[0, 0, 2] > jet[0, 0, 0] and jet[0, 255, 0] > jet[0, 255, 2]  # blue to red


def test_viewer_frame_and_closeup():
    rng = random.Random(0)
    src = Image.fromarray(np.full((100, 200, 3), 200, np.uint8))
    frame = C._viewer_frame(src, rng, (320, 180))
    arr = np.asarray(frame)
    assert frame.size == (320, 180) and (arr == 200).all(axis=2).mean() > 0.2  # the image inside the chrome
    crops = [C._augment(src, random.Random(i), closeup_share=1.0).size for i in range(20)]
    assert all(w <= 0.55 * 200 + 1 and h <= 0.55 * 100 + 1 for w, h in crops)


def test_training_sources_leave_the_video_devsets_unseen_images_out():
    """devsets/videos/README.md: these sources are shown only in dev clips, never in training: the recordings'
    unseen DICOM files (rounds 2-3 of the cursor recordings too), and the images the public clips show
    (public_sources.tsv): PLUS ultrasound sequences, imageio's stent.npz and Kitware's 005_32months T2 (itkwidgets
    renders), torchio's and cornerstone's MRI."""
    unseen = ("eCT_Supplemental", "gdcm-US-ALOKA-16", "examples_palette", "color3d_jpeg_baseline", "emri_small",
              "color-pl", "color-px", "examples_overlay", "stent", "005_32months", "colin27", "fpg", "BoneUltrasound",
              "SpinePhantom", "SegmentationTest", "USTC_")
    render = settings.defaults("videos", "classifier", "demo_data")
    sources = C._sources(render)
    files = [n for loaders in sources.values() for n in loaders] + [s.file for s in C.assets.CATALOG]
    assert not [f for f in files if f.lower().startswith(tuple(u.lower() for u in unseen))]
    assert {p for _, p, _ in C.CLASSIFIER_VOLUMES} <= set(C.assets.DATA_ONLY) and \
        {p for _, p, *_ in C.CLASSIFIER_EXTRA} <= {"pydicom", "matplotlib"}  # packaged test data only
    assert len(sources["ct"]) >= 4 * (1 + len(render["ct_windows"]))
    assert "histo_cell" not in sources["histopathology"]  # a phase hologram, not a stained section
    mri = sorted(sources["mri"])
    views = 3 * len(render["volume_slices"]) + 1 + len(render["render_views"])
    assert all(len([k for k in mri if k.startswith(f"{file}:")]) == views for _, _, file in C.CLASSIFIER_VOLUMES)
    assert "s1045.ima.gz:0" in mri


def test_each_source_file_weighs_as_one_image():
    """A volume's many slices and a CT file's windows are views of one file: images are drawn file by file."""
    loaders = dict.fromkeys(["mri_shoulder", "s1045.ima.gz:0", "head.nii.gz:axial@0.5/1", "head.nii.gz:coronal@0.5/1",
                             "head.nii.gz:sagittal@0.5/1", "head.nii.gz:render@0,15", "head.nii.gz:render@90,15"])
    order = C._balanced_order(loaders, 24)
    assert {C._source_group(n) for n in loaders} == {"MR2_UNCR.dcm", "s1045.ima.gz", "head.nii.gz",
                                                     "head.nii.gz:render"}
    assert len({C._source_group(n) for n in order[:4]}) == 4  # each round: a view of each group
    assert set(order) == set(loaders) and order.count("mri_shoulder") == 6 == 3 * order.count("head.nii.gz:axial@0.5/1")


def _head(shape=(40, 48, 36)) -> np.ndarray:
    """A RAS+ test volume: an ellipsoid 'head' (100) with a bright block (200) at the front top right."""
    x, y, z = np.meshgrid(*[np.linspace(-1, 1, n) for n in shape], indexing="ij")
    vol = np.where(x ** 2 / 0.6 + y ** 2 / 0.8 + z ** 2 / 0.7 < 1, 100.0, 0.0)
    vol[(x > 0.1) & (x < 0.4) & (y > 0.3) & (y < 0.6) & (z > 0.1) & (z < 0.4)] = 200.0
    return vol.astype(np.float32)


def test_volume_slices_are_oriented_as_viewers_show_them():
    vol = _head()
    view = C.volume_view(vol)
    axial = C.volume_slice(view, "axial", 0.7)[:, :, 0]  # front up, patient's right on the image's right (RAS x)
    rows, cols = np.nonzero(axial == 255)
    assert len(rows) and rows.mean() < axial.shape[0] / 2 and cols.mean() > axial.shape[1] / 2
    coronal = C.volume_slice(view, "coronal", 0.75)[:, :, 0]  # head up
    assert np.nonzero(coronal == 255)[0].mean() < coronal.shape[0] / 2
    sagittal = C.volume_slice(view, "sagittal", 0.5)  # cropped to the head: its box's corners are outside it
    assert sagittal.shape[0] < vol.shape[2] and sagittal.shape[1] < vol.shape[1] and (sagittal[0, 0] == 0).all()
    tiles = [C.volume_slice(view, p, 0.5) for p in ("axial", "sagittal", "coronal")]
    planes = C.volume_planes(view)
    assert planes.shape[:2] == (max(t.shape[0] for t in tiles), sum(t.shape[1] for t in tiles) + 24)


def test_volume_render_shades_the_surface_in_its_tint():
    vol = _head()
    im = C.volume_render(vol, 0, 15, (200, 100, 50)).astype(int)
    fg = im.sum(axis=2) > 0
    assert 0.3 < fg.mean() < 0.95 and (im[0, 0] == 0).all()  # the head on black
    r, g, b = (im[..., k][fg] for k in range(3))
    assert (r >= g).all() and (g >= b).all() and r.std() > 5  # the tint, shaded
    assert not np.array_equal(im.shape, C.volume_render(vol, 90, 15, (200, 100, 50)).shape) or \
        not np.array_equal(im, C.volume_render(vol, 90, 15, (200, 100, 50)))


def test_the_packaged_mri_sources_load():
    """The packaged T1 volumes (read with nibabel, RAS+: the head's top is at the end of z) and matplotlib's
    sagittal head MRI."""
    for _, package, file in C.CLASSIFIER_VOLUMES:
        vol = C.assets.load_volume(package, file)
        assert vol.ndim == 3 and min(vol.shape) > 150 and vol.max() > 100
        fg = vol > np.percentile(vol, 99) / 3
        z = np.flatnonzero(fg.any(axis=(0, 1)))
        top, bottom = fg[:, :, z[-1] - 5].sum(), fg[:, :, z[0] + 5].sum()
        assert top < fg[:, :, (z[0] + z[-1]) // 2].sum() and bottom > 0  # the vertex is narrow, the middle wide
        axial = C.volume_slice(C.volume_view(vol), "axial", 0.5)
        assert axial.shape[2] == 3 and axial.std() > 30
    head = C.assets.matplotlib_mri()
    assert head.shape == (256, 256, 3) and head.std() > 30


def test_the_jpeg_lossless_grey_b_mode_ultrasound_decodes():
    """pydicom-data's grey B-mode echo is JPEG lossless: pydicom decodes it only with python-gdcm (requirements)."""
    sources = C._sources(settings.defaults("videos", "classifier", "demo_data"))
    bmode = sorted(k for k in sources["ultrasound"] if k.startswith("JPGLosslessP14SV1"))
    assert len(bmode) == 2  # whole image and the sector alone
    whole, sector = (sources["ultrasound"][k]() for k in sorted(bmode, key=len))
    assert whole.shape == (768, 1024, 3) and sector.shape == (500, 760, 3)
    assert (whole[..., 0] == whole[..., 2]).all() and whole.std() > 20  # grey, and not blank
