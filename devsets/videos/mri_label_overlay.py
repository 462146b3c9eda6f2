"""h17d's MRI label overlay as re-implemented by branch h23k from h17d's README description (h17d kept no code);
an experiment's code, not used by the package (README.md, section h23k: not adopted). The h23k harness applied
`label_overlay` to 25% of the MRI class's non-rendering draws before `classify.compose_frame`:
the inside of the head (its foreground less an outer rim of 8-15% of its size) cut into Voronoi cells of 8-30 random
seeds, each cell split into its darker and brighter half, each region a colour of a qualitative colour map (tab20,
tab20b, Set3, Paired, hsv), alpha 0.35-0.8."""
import random
import numpy as np
from PIL import Image
from scipy import ndimage

CMAPS = ("tab20", "tab20b", "Set3", "Paired", "hsv")


def head_inside(grey: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The foreground (above a third of the 99th percentile, holes filled, pieces of at least 5% of the largest)
    less an outer rim of 8-15% of each piece's size (the longer side of its box)."""
    mask = ndimage.binary_fill_holes(ndimage.binary_opening(grey > np.percentile(grey, 99) / 3, iterations=1))
    lab, n = ndimage.label(mask)
    if n == 0:
        return mask
    areas = ndimage.sum(mask, lab, range(1, n + 1))
    inside = np.zeros_like(mask)
    for k, box in enumerate(ndimage.find_objects(lab)):
        if areas[k] < 0.05 * areas.max():
            continue
        piece = lab[box] == k + 1
        rim = rng.uniform(0.08, 0.15) * max(piece.shape)
        inside[box] |= ndimage.distance_transform_edt(piece) > rim
    return inside


def label_overlay(im: Image.Image, rng: random.Random) -> Image.Image:
    """`im` (a grey MRI slice, RGB) with a colour label map over the inside of the head."""
    import matplotlib

    g = np.random.default_rng(rng.getrandbits(32))
    rgb = np.asarray(im.convert("RGB")).astype(np.float64)
    grey = rgb.mean(axis=2)
    inside = head_inside(grey, g)
    ys, xs = np.nonzero(inside)
    if len(ys) < 30:
        return im
    k = int(g.integers(8, 31))
    seeds = g.choice(len(ys), size=k, replace=False)
    d2 = (ys[:, None] - ys[seeds][None]) ** 2 + (xs[:, None] - xs[seeds][None]) ** 2
    cell = d2.argmin(axis=1)
    vals = grey[ys, xs]
    region = 2 * cell
    for c in range(k):
        sel = cell == c
        if sel.any():
            region[sel] += vals[sel] > np.median(vals[sel])
    cmap = matplotlib.colormaps[CMAPS[int(g.integers(len(CMAPS)))]]
    colours = (np.array([cmap(float(g.random()))[:3] if not hasattr(cmap, "colors") else
                         cmap.colors[int(g.integers(len(cmap.colors)))][:3] for _ in range(2 * k)]) * 255)
    alpha = g.uniform(0.35, 0.8)
    rgb[ys, xs] = (1 - alpha) * rgb[ys, xs] + alpha * colours[region]
    return Image.fromarray(np.clip(rgb.round(), 0, 255).astype(np.uint8))
