"""Drawn-style sketches: a pencil sketch redrawn as the black-on-white line drawing a
person makes with a mouse or a pen, for training on (and scoring) the drawings people
actually make on the demo page.

    draw(sketch, "outline", seed)   # [h, w, 3] uint8 -> [h, w, 3] uint8, black on white

The styles, each with a range of pen widths (in the demo page's canvas pixels):

- ``outline``: thin outlines of the sketch's strokes, as traced with a fine pen;
- ``marker``: the strokes as bold, solid marker lines (hair becomes a black mass);
- ``contour``: sparse contours only, the face's outline and its features, as a quick
  drawing has them.

Most drawings are made at the page's canvas scale (256 pixels wide, pen 2-12 pixels) and
shrunk to the model's size with area resampling, exactly as the page's drawings reach
the model; the rest are drawn at the sketch's own resolution with a 1-pixel pen. Every
random choice (scale, pen width, threshold) comes from `seed`, so one seed gives the same
pixels.

OpenCV, not TensorFlow: thresholds, contour tracing and polyline drawing are what OpenCV
has and TensorFlow lacks (no findContours or line rasteriser in tf.image), and at about a
millisecond an image they are cheap enough to draw a bank of styled copies once per
training run (models/nn/data.py) rather than inside the step. No TensorFlow import here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import cv2
import numpy as np

from models.core.errors import UsageError

CANVAS = 256  # the demo page's canvas width: pen widths are in its pixels
AT_CANVAS_SCALE = 0.75  # the share of drawings made at canvas scale (the rest: 1 px pen)
PENCIL = "pencil"  # the sketch as it is: not a style, the name tests and reports use


def _grey_at(sketch: np.ndarray, scale: float) -> np.ndarray:
    """The sketch as grey, enlarged to the drawing's scale."""
    grey = cv2.cvtColor(sketch, cv2.COLOR_RGB2GRAY)
    if scale == 1:
        return grey
    return cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)


def _dark_strokes(grey: np.ndarray, scale: float, offset: float) -> np.ndarray:
    """Where the pencil is darker than its surroundings: an adaptive threshold, so that
    light shading and dark hair both give strokes. `offset` (grey levels) moves the
    threshold: larger keeps only the darker strokes."""
    block = 2 * round(4 * scale) + 1  # about 9 pixels of the 64-pixel sketch
    strokes = cv2.adaptiveThreshold(grey, 255, cv2.ADAPTIVE_THRESH_MEAN_C,
                                    cv2.THRESH_BINARY_INV, block, offset) > 0
    # Scanned sketches have dark edges a drawing on the page does not: drop a frame.
    edge = round(2 * scale)
    strokes[:edge], strokes[-edge:], strokes[:, :edge], strokes[:, -edge:] = (False,) * 4
    return strokes


def _polylines(mask: np.ndarray, min_length: float, smoothing: float) -> list[np.ndarray]:
    """The outlines of a mask's regions as simplified polylines (as a hand draws them:
    a few straight segments), dropping those shorter than `min_length` pixels."""
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_LIST,
                                   cv2.CHAIN_APPROX_NONE)
    return [cv2.approxPolyDP(contour, smoothing, closed=True) for contour in contours
            if cv2.arcLength(contour, closed=True) >= min_length]


def _stroked(shape: tuple[int, int], lines: list[np.ndarray], width: int) -> np.ndarray:
    paper = np.full(shape, 255, np.uint8)
    cv2.polylines(paper, lines, isClosed=False, color=0, thickness=width,
                  lineType=cv2.LINE_AA)
    return paper


def outline(grey: np.ndarray, scale: float, width: int, rng: np.random.Generator):
    strokes = _dark_strokes(grey, scale, offset=rng.uniform(6, 14))
    return _stroked(grey.shape, _polylines(strokes, 6 * scale, 0.5 * scale), width)


def marker(grey: np.ndarray, scale: float, width: int, rng: np.random.Generator):
    strokes = _dark_strokes(grey, scale, offset=rng.uniform(10, 20))
    # A marker's line is as wide as its tip: thin pencil strokes grow to the pen width.
    tip = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (width, width))
    strokes = cv2.morphologyEx(strokes.astype(np.uint8), cv2.MORPH_OPEN,
                               np.ones((2, 2), np.uint8)) if scale > 1 else strokes
    return np.where(cv2.dilate(np.asarray(strokes, np.uint8), tip) > 0, 0, 255).astype(
        np.uint8)


def contour(grey: np.ndarray, scale: float, width: int, rng: np.random.Generator):
    # Blurred, only the bold shapes keep dark cores: hair, brows, eyes, nostrils, mouth
    # and the strong parts of the face's outline; their outlines, long ones only.
    blurred = cv2.GaussianBlur(grey, (0, 0), sigmaX=rng.uniform(0.8, 1.2) * scale)
    strokes = _dark_strokes(blurred, scale, offset=rng.uniform(12, 20))
    return _stroked(grey.shape, _polylines(strokes, 10 * scale, 0.8 * scale), width)


Style = Callable[[np.ndarray, float, int, np.random.Generator], np.ndarray]
STYLES: dict[str, tuple[Style, tuple[int, ...]]] = {  # name -> (drawing, pen widths)
    "outline": (outline, (2, 3, 4)),
    "marker": (marker, (6, 8, 12)),
    "contour": (contour, (2, 3, 4, 6)),
}


def check_styles(names: list[str] | tuple[str, ...], flag: str) -> tuple[str, ...]:
    """`names` as a tuple, each a known style, or a UsageError naming the flag."""
    for name in names:
        if name not in STYLES:
            raise UsageError(f"{flag}: unknown style {name!r}; the styles are "
                             f"{', '.join(STYLES)}")
    return tuple(names)


def draw(sketch: np.ndarray, style: str, seed: int | Sequence[int]) -> np.ndarray:
    """A [h, w, 3] uint8 sketch redrawn in `style`: [h, w, 3] uint8, black on white."""
    drawing, widths = STYLES[check_styles([style], "style")[0]]
    rng = np.random.default_rng(seed)
    height, width = sketch.shape[:2]
    if rng.random() < AT_CANVAS_SCALE:
        scale = max(1.0, CANVAS / max(height, width))
        pen = int(rng.choice(widths))
    else:
        scale, pen = 1.0, 1 if drawing is not marker else 2
    drawn = drawing(_grey_at(sketch, scale), scale, pen, rng)
    if scale != 1:
        drawn = cv2.resize(drawn, (width, height), interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(drawn, cv2.COLOR_GRAY2RGB)


def input_half(which_direction: str, width: int) -> slice:
    """The columns of a stored A|B pair that hold the model's input image."""
    return slice(width // 2, width) if which_direction == "BtoA" else slice(0, width // 2)


def restyle(images: np.ndarray, which_direction: str, style: str, seed: int) -> np.ndarray:
    """[n, h, w, 3] uint8 pairs with each input sketch redrawn in a drawn `style`
    (models/core/styles.py); pair i drawn with the seed (seed, i)."""
    columns = input_half(which_direction, images.shape[2])
    restyled = images.copy()
    for i, image in enumerate(images):
        restyled[i, :, columns] = draw(image[:, columns], style, [seed, i])
    return restyled


def style_bank(images: np.ndarray, which_direction: str, styles: tuple[str, ...], seed: int,
               copies: int = 8) -> np.ndarray:
    """[n, len(styles) * copies, h, w/2, 3] uint8: every pair's input sketch drawn
    `copies` times in each style (pen width, scale and threshold drawn from (seed, i,
    style, copy)), once per run, for the training pipeline to pick from."""
    columns = input_half(which_direction, images.shape[2])
    return np.stack([
        np.stack([draw(image[:, columns], style, [seed, i, s, c])
                  for s, style in enumerate(styles) for c in range(copies)])
        for i, image in enumerate(images)])
