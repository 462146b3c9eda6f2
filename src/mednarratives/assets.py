"""Assets for synthetic training images: real images that ship inside installed packages (pydicom, pydicom-data,
scikit-image; for the domain classifier also matplotlib's sample head MRI and pydeface's mean T1 head, read with
nibabel) and the DejaVu fonts (Debian fonts-dejavu-core).

The domain classifier's training set, the sub-figure detector's synthetic figures and the demo corpus are built
from these, so nothing is downloaded.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mednarratives.domains import DOMAINS, STATIC_DOMAINS  # noqa: F401  (re-exported)


@dataclass(frozen=True)
class SourceImage:
    name: str        # stable id used in ground truth
    domain: str      # one of DOMAINS, or "non_medical"
    package: str     # "pydicom" or "skimage"
    file: str        # file name inside the package's data
    description: str  # what the image shows, for narration and captions
    frame: int | None = None  # for multi-frame DICOM: frame index; None = whole cine (see load_cine)


CATALOG: tuple[SourceImage, ...] = (
    SourceImage("ct_head", "ct", "pydicom", "693_UNCR.dcm", "axial CT of the head"),
    SourceImage("ct_spine", "ct", "pydicom", "CT_small.dcm", "axial CT of a thoracic vertebra"),
    SourceImage("mri_shoulder", "mri", "pydicom", "MR2_UNCR.dcm", "coronal MRI of the shoulder"),
    SourceImage("mri_abdomen", "mri", "pydicom", "MR-SIEMENS-DICOM-WithOverlays.dcm", "axial MRI of the upper abdomen"),
    SourceImage("mri_small", "mri", "pydicom", "MR_small.dcm", "low-resolution MRI slice"),
    SourceImage("xray_chest", "xray", "pydicom", "RG1_UNCR.dcm", "frontal chest radiograph"),
    SourceImage("xray_leg", "xray", "pydicom", "RG3_UNCR.dcm", "radiograph of the lower leg and ankle"),
    SourceImage("us_lymph_node", "ultrasound", "pydicom", "US1_UNCR.dcm", "colour Doppler ultrasound of a lymph node"),
    SourceImage("us_obstetric", "ultrasound", "pydicom", "OBXXXX1A.dcm", "obstetric ultrasound"),
    SourceImage("us_cine", "ultrasound", "pydicom", "examples_ybr_color.dcm", "echocardiography cine loop", frame=0),
    SourceImage("retina_fundus", "ophthalmology", "skimage", "retina.jpg", "colour fundus photograph of the retina"),
    SourceImage("retina_microaneurysms", "ophthalmology", "skimage", "microaneurysms.png", "retinal microaneurysms"),
    SourceImage("histo_ihc", "histopathology", "skimage", "ihc.png", "immunohistochemistry of colonic glands"),
    SourceImage("histo_cell", "histopathology", "skimage", "cell.png", "microscopy of a single cell"),
    SourceImage("photo_coffee", "non_medical", "skimage", "coffee.png", "a cup of coffee"),
    SourceImage("photo_rocket", "non_medical", "skimage", "rocket.jpg", "a rocket on a launch pad"),
    SourceImage("photo_cat", "non_medical", "skimage", "chelsea.png", "a cat"),
    SourceImage("photo_motorcycle", "non_medical", "skimage", "motorcycle_left.png", "a motorcycle"),
)
BY_NAME = {s.name: s for s in CATALOG}
FACE_IMAGE = "astronaut.png"  # scikit-image's bundled portrait, used as the narrator's webcam


# Packages whose data files are read without importing the package: their data folder (pydeface is installed
# only for its data, install.sh: --no-deps; matplotlib is not in the demo env).
DATA_ONLY = {"pydeface": "data", "matplotlib": "mpl-data/sample_data"}


def by_domain(domain: str) -> list[SourceImage]:
    return [s for s in CATALOG if s.domain == domain]


def package_file(package: str, file: str) -> Path:
    if package == "pydicom":
        from pydicom.data import get_testdata_file

        path = get_testdata_file(file)  # local lookup in pydicom and pydicom-data; no download for these
        if path is None:
            raise FileNotFoundError(f"{file} not found in pydicom/pydicom-data; is pydicom-data installed?")
        return Path(path)
    if package == "skimage":
        import skimage.data

        return Path(skimage.data.__file__).parent / file
    if package in DATA_ONLY:
        import importlib.util

        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            raise FileNotFoundError(f"{file}: {package} is not installed (install.sh)")
        return Path(list(spec.submodule_search_locations)[0]) / DATA_ONLY[package] / file
    raise ValueError(f"unknown package {package!r}")


def _to_rgb8(pixels: np.ndarray, invert: bool = False) -> np.ndarray:
    """Window a grayscale or colour array to uint8 RGB (1st-99th percentile window for grayscale)."""
    arr = np.asarray(pixels)
    if arr.ndim == 2:
        lo, hi = np.percentile(arr, [1, 99])
        scaled = np.clip((arr.astype(np.float64) - lo) / max(hi - lo, 1e-6), 0, 1)
        if invert:
            scaled = 1.0 - scaled
        gray = np.round(scaled * 255).astype(np.uint8)
        return np.repeat(gray[:, :, None], 3, axis=2)
    if arr.shape[2] == 4:
        arr = arr[:, :, :3]
    if arr.dtype != np.uint8:
        arr = np.clip(arr, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(arr)


def dicom_frames(path: Path) -> np.ndarray:
    import pydicom
    from pydicom.pixels import apply_color_lut

    ds = pydicom.dcmread(path)
    arr = ds.pixel_array  # pydicom 3 already converts YBR colour spaces to RGB
    photometric = ds.PhotometricInterpretation
    if photometric == "PALETTE COLOR":
        arr = apply_color_lut(arr, ds)
        arr = (arr >> 8).astype(np.uint8) if arr.dtype != np.uint8 else arr
    frames = int(getattr(ds, "NumberOfFrames", 1) or 1)
    if frames == 1:
        arr = arr[None]
    invert = photometric == "MONOCHROME1"
    return np.stack([_to_rgb8(f, invert=invert) for f in arr])


def matplotlib_mri(file: str = "s1045.ima.gz") -> np.ndarray:
    """matplotlib's sample MRI (a sagittal head slice, 256 x 256 uint16 raw, gzipped), uint8 RGB."""
    import gzip

    raw = gzip.decompress(package_file("matplotlib", file).read_bytes())
    return _to_rgb8(np.frombuffer(raw, "<u2").reshape(256, 256))


@functools.lru_cache(maxsize=None)
def load_volume(package: str, file: str) -> np.ndarray:
    """A NIfTI volume (nibabel) in RAS+ orientation (x: left to right, y: back to front, z: down to up), float32."""
    import nibabel

    vol = np.asarray(nibabel.as_closest_canonical(nibabel.load(package_file(package, file))).dataobj, np.float32)
    vol.setflags(write=False)
    return vol


@functools.lru_cache(maxsize=None)
def load_cine(name: str) -> np.ndarray:
    """All frames of a source as uint8 array (frames, H, W, 3); single images give one frame."""
    src = BY_NAME[name]
    path = package_file(src.package, src.file)
    if src.package == "pydicom":
        frames = dicom_frames(path)
    else:
        from PIL import Image

        frames = _to_rgb8(np.asarray(Image.open(path).convert("RGB")))[None]
    frames.setflags(write=False)
    return frames


def load_image(name: str) -> np.ndarray:
    """One uint8 RGB image (H, W, 3) of a catalogued source."""
    src = BY_NAME[name]
    return load_cine(name)[src.frame or 0]


@functools.lru_cache(maxsize=None)
def load_face() -> np.ndarray:
    from PIL import Image

    path = package_file("skimage", FACE_IMAGE)
    img = np.asarray(Image.open(path).convert("RGB"))
    img.setflags(write=False)
    return img


@functools.lru_cache(maxsize=None)
def _font_path(name: str) -> str:
    from PIL import ImageFont

    try:  # Pillow looks the file name up in the system font folders (XDG_DATA_DIRS/fonts on Linux)
        return ImageFont.truetype(name, 10).path
    except OSError:
        raise FileNotFoundError(f"font {name} not found: install the Debian package fonts-dejavu-core") from None


@functools.lru_cache(maxsize=4096)
def dejavu_font(name: str, size: int):
    """A DejaVu font file (e.g. "DejaVuSans-Bold.ttf") at `size` px, from the system's font folders."""
    from PIL import ImageFont

    return ImageFont.truetype(_font_path(name), size)
