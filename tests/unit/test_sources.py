import numpy as np
import pytest

from mednarratives import assets as sources
from mednarratives.domains import DOMAINS


def test_catalog_covers_enough_domains():
    medical = {s.domain for s in sources.CATALOG if s.domain != "non_medical"}
    assert medical <= set(DOMAINS)
    assert len(medical) >= 5
    assert sources.by_domain("non_medical")


@pytest.mark.parametrize("name", [s.name for s in sources.CATALOG])
def test_every_source_loads_as_rgb8(name):
    img = sources.load_image(name)
    assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3
    assert min(img.shape[:2]) >= 64
    assert img.std() > 5  # a real picture, not a blank


def test_cine_has_motion():
    cine = sources.load_cine("us_cine")
    assert cine.shape[0] == 30
    assert np.abs(cine[1:].astype(int) - cine[:-1].astype(int)).mean() > 0.5


def test_monochrome1_is_inverted_to_display_polarity():
    # Chest CR (MONOCHROME1): lungs must come out dark, as radiologists view them.
    xray = sources.load_image("xray_chest").astype(float)[..., 0]
    h, w = xray.shape
    lung = xray[h // 3: h // 2, w // 5: 2 * w // 5].mean()
    assert lung < xray.mean()


def test_face_image_ships_with_scikit_image():
    assert sources.load_face().shape == (512, 512, 3)
