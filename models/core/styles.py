"""Drawn-style sketches: a pencil sketch redrawn as the line drawing a person makes with
a mouse, a finger or a pen, for training on (and scoring) the drawings people make on
the demo page.

    draw(sketch, "canny", seed)   # [h, w, 3] uint8 -> [h, w, 3] uint8, dark on white

A drawing is a line extractor (the style) and a hand. The styles, each with a range of
pen widths (in the demo page's canvas pixels):

- ``outline``: thin outlines of the sketch's strokes, as traced with a fine pen;
- ``marker``: the strokes as bold, solid marker lines (hair becomes a black mass);
- ``contour``: sparse contours only, the face's outline and its features;
- ``canny``: Canny's edges, a line on each side of a stroke;
- ``xdog``: the extended difference of Gaussians, ink lines of varying weight;
- ``ink``: every dark pixel of a Gaussian adaptive threshold, scratchy, shading included;
- ``skeleton``: the strokes' centre lines (a morphological skeleton), one line each;
- ``hatching``: dark areas as parallel and crossed lines over a few outlines.

The hand (HAND) then changes the drawing, each effect with its own probability: half a
drawing (the features alone, or the outline alone), patches left out, lines gone over
twice, a wavering line, gaps where the pen lifted, a light pressure. Training draws with
all of it; scoring (`restyle`: test mode, tools/restyle.py) draws the whole face, without
the effects that leave part of it out, so that a drawing's score against the same face's
pencil sketch measures the style rather than what was not drawn.

Most drawings are made at the page's canvas scale (256 pixels wide) and shrunk to the
model's size with area resampling, exactly as the page's drawings reach the model; the
rest are drawn at the sketch's own resolution with a 1-pixel pen. Every random choice
(scale, pen, thresholds, the hand) comes from `seed`, so one seed gives the same pixels.

OpenCV, not TensorFlow: thresholds, edges, contour tracing and line drawing are what
OpenCV has and TensorFlow lacks, and at 3-30 ms a drawing they are cheap enough to draw
a bank of styled copies once per training run (models/nn/data.py) rather than inside the
step. No TensorFlow import here.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np

from models.core.errors import UsageError

CANVAS = 256  # the demo page's canvas width: pen widths are in its pixels
AT_CANVAS_SCALE = 0.75  # the share of drawings made at canvas scale (the rest: 1 px pen)
BANK_SIZE = 24  # drawings of each training pair a run draws, over all its styles
PENCIL = "pencil"  # the sketch as it is: not a style, the name tests and reports use


def _grey_at(sketch: np.ndarray, scale: float) -> np.ndarray:
    """The sketch as grey, enlarged to the drawing's scale."""
    grey = cv2.cvtColor(sketch, cv2.COLOR_RGB2GRAY)
    if scale == 1:
        return grey
    return cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)


def _without_frame(mask: np.ndarray, scale: float) -> np.ndarray:
    """`mask` with a frame cleared: scanned sketches have dark edges a drawing on the
    page does not."""
    edge = round(2 * scale)
    mask[:edge], mask[-edge:], mask[:, :edge], mask[:, -edge:] = (False,) * 4
    return mask


def _dark_strokes(grey: np.ndarray, scale: float, offset: float) -> np.ndarray:
    """Where the pencil is darker than its surroundings: an adaptive threshold, so that
    light shading and dark hair both give strokes. `offset` (grey levels) moves the
    threshold: larger keeps only the darker strokes."""
    block = 2 * round(4 * scale) + 1  # about 9 pixels of the 64-pixel sketch
    strokes = cv2.adaptiveThreshold(grey, 255, cv2.ADAPTIVE_THRESH_MEAN_C,
                                    cv2.THRESH_BINARY_INV, block, offset) > 0
    return _without_frame(strokes, scale)


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


def _pen(lines: np.ndarray, width: int) -> np.ndarray:
    """A mask of 1-pixel lines drawn with a round pen `width` pixels across: black on
    white paper."""
    if width > 1:
        tip = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (width, width))
        lines = cv2.dilate(lines.astype(np.uint8), tip) > 0
    return np.where(lines, 0, 255).astype(np.uint8)


def canny(grey: np.ndarray, scale: float, width: int, rng: np.random.Generator):
    # Edges, not strokes: a pencil line gives two, one on each side, as a tracing of
    # light and dark does.
    blurred = cv2.GaussianBlur(grey, (0, 0), sigmaX=rng.uniform(0.6, 1.2) * scale)
    low = rng.uniform(20, 45)
    edges = cv2.Canny(blurred, low, low * rng.uniform(2, 3)) > 0
    return _pen(_without_frame(edges, scale), width)


def xdog(grey: np.ndarray, scale: float, width: int, rng: np.random.Generator):
    # The extended difference of Gaussians (Winnemoeller et al. 2012): an ink drawing's
    # lines of varying weight, thick where the pencil is dark and broad.
    sigma = rng.uniform(0.5, 1.0) * scale
    image = grey.astype(np.float32) / 255
    difference = (cv2.GaussianBlur(image, (0, 0), sigma)
                  - rng.uniform(0.97, 0.995) * cv2.GaussianBlur(image, (0, 0), 1.6 * sigma))
    lines = difference < rng.uniform(-0.01, 0.005)
    return _pen(_without_frame(lines, scale), max(1, width - 2))


def ink(grey: np.ndarray, scale: float, width: int, rng: np.random.Generator):
    # Every dark pixel a Gaussian-weighted threshold finds, specks dropped: the raw,
    # scratchy strokes of a fine-liner over the whole sketch, shading included.
    block = 2 * round(rng.uniform(3, 7) * scale) + 1
    lines = cv2.adaptiveThreshold(grey, 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C,
                                  cv2.THRESH_BINARY_INV, block, rng.uniform(3, 10))
    speck = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
    lines = cv2.morphologyEx(lines, cv2.MORPH_OPEN, speck) > 0 if scale > 1 else lines > 0
    return _pen(_without_frame(lines, scale), max(1, width - 2))


def skeleton(grey: np.ndarray, scale: float, width: int, rng: np.random.Generator):
    # The centre lines of the dark strokes (a morphological skeleton), each stroke one
    # pen line however broad it was: how a finger redraws a shaded sketch.
    strokes = _dark_strokes(cv2.GaussianBlur(grey, (0, 0), 0.7 * scale), scale,
                            offset=rng.uniform(6, 14)).astype(np.uint8)
    cross = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))
    centre = np.zeros_like(strokes)
    while strokes.any():
        eroded = cv2.erode(strokes, cross)
        centre |= strokes & ~cv2.dilate(eroded, cross)
        strokes = eroded
    lines = cv2.morphologyEx(centre, cv2.MORPH_CLOSE, cross) > 0  # join the broken steps
    return _pen(lines, width)


def hatching(grey: np.ndarray, scale: float, width: int, rng: np.random.Generator):
    # Tone as parallel lines: the dark areas hatched at one angle, the darkest crossed at
    # another, over thin outlines of the strongest strokes.
    blurred = cv2.GaussianBlur(grey, (0, 0), 1.5 * scale)
    rows, columns = np.indices(grey.shape)
    spacing = rng.uniform(2.5, 4) * scale
    angle = rng.uniform(0, np.pi)

    def hatch(turn: float) -> np.ndarray:
        along = columns * np.cos(angle + turn) + rows * np.sin(angle + turn)
        return np.mod(along, spacing) < max(1.0, width * scale / 4)

    dark = rng.uniform(90, 130)
    lines = ((blurred < dark) & hatch(0)) | ((blurred < dark - 40) & hatch(np.pi / 2))
    outline = _dark_strokes(grey, scale, offset=rng.uniform(14, 22))
    return np.minimum(_pen(_without_frame(lines, scale), 1),
                      _stroked(grey.shape, _polylines(outline, 10 * scale, 0.8 * scale),
                               width))


Style = Callable[[np.ndarray, float, int, np.random.Generator], np.ndarray]
STYLES: dict[str, tuple[Style, tuple[int, ...]]] = {  # name -> (drawing, pen widths)
    "outline": (outline, (2, 3, 4)),
    "marker": (marker, (6, 8, 12)),
    "contour": (contour, (2, 3, 4, 6)),
    "canny": (canny, (2, 3, 4, 6)),
    "xdog": (xdog, (2, 3, 4, 6)),
    "ink": (ink, (2, 3, 4)),
    "skeleton": (skeleton, (2, 4, 6, 8, 12)),
    "hatching": (hatching, (2, 3, 4)),
}


# ------------------------------------------------------------------------------- the hand


def _wobble(paper: np.ndarray, scale: float, rng: np.random.Generator) -> np.ndarray:
    """Lines bent by a slow random displacement, as a mouse or finger wavers."""
    height, width = paper.shape
    reach = rng.uniform(0.5, 1.5) * scale
    knots = rng.integers(3, 7)
    field = [cv2.resize(rng.normal(0, reach, (knots, knots)).astype(np.float32),
                        (width, height), interpolation=cv2.INTER_CUBIC) for _ in range(2)]
    columns, rows = np.meshgrid(np.arange(width, dtype=np.float32),
                                np.arange(height, dtype=np.float32))
    return cv2.remap(paper, columns + field[0], rows + field[1], cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_CONSTANT, borderValue=255)


def _breaks(paper: np.ndarray, scale: float, rng: np.random.Generator) -> np.ndarray:
    """Gaps where the pen lifted: white dots over random points of the lines."""
    ink_at = np.argwhere(paper < 128)
    if not len(ink_at):
        return paper
    paper = paper.copy()
    for row, column in ink_at[rng.integers(0, len(ink_at), rng.integers(5, 30))]:
        cv2.circle(paper, (int(column), int(row)), round(rng.uniform(0.5, 1.2) * scale),
                   255, -1)
    return paper


def _redrawn(paper: np.ndarray, scale: float, rng: np.random.Generator) -> np.ndarray:
    """Over-drawn: each line gone over twice, a little apart."""
    shift = np.float32([[1, 0, rng.uniform(-1, 1) * scale], [0, 1, rng.uniform(-1, 1) * scale]])
    again = cv2.warpAffine(paper, shift, paper.shape[::-1], borderValue=255)
    return np.minimum(paper, again)


def _sparse(paper: np.ndarray, scale: float, rng: np.random.Generator) -> np.ndarray:
    """Under-drawn: whole patches of the drawing left out."""
    height, width = paper.shape
    cells = 4
    keep = rng.random((cells, cells)) > rng.uniform(0.15, 0.4)
    keep = cv2.resize(keep.astype(np.uint8), (width, height), interpolation=cv2.INTER_NEAREST)
    return np.where(keep > 0, paper, 255).astype(np.uint8)


def _partial(paper: np.ndarray, scale: float, rng: np.random.Generator) -> np.ndarray:
    """Half a drawing: the features alone (inside the face's oval) or the outline alone
    (hair, jaw and shoulders, outside it)."""
    height, width = paper.shape
    oval = np.zeros_like(paper)
    cv2.ellipse(oval, (width // 2, round(0.56 * height)), (round(0.26 * width),
                round(0.27 * height)), 0, 0, 360, 1, -1)
    inside = oval > 0 if rng.random() < 0.5 else oval == 0
    return np.where(inside, paper, 255).astype(np.uint8)


def _pressure(paper: np.ndarray, scale: float, rng: np.random.Generator) -> np.ndarray:
    """A lighter hand: lines in grey rather than black."""
    return (255 - (255 - paper.astype(np.float32)) * rng.uniform(0.5, 0.85)).astype(np.uint8)


# Each is applied to a drawing with its probability, in this order, from the drawing's seed.
HAND: tuple[tuple[Callable, float], ...] = (
    (_partial, 0.15), (_sparse, 0.2), (_redrawn, 0.2), (_wobble, 0.5), (_breaks, 0.3),
    (_pressure, 0.3))
# What a hand leaves out, rather than how it draws: a whole drawing skips these.
LEAVES_OUT = (_partial, _sparse)


def check_styles(names: list[str] | tuple[str, ...], flag: str) -> tuple[str, ...]:
    """`names` as a tuple, each a known style, or a UsageError naming the flag."""
    for name in names:
        if name not in STYLES:
            raise UsageError(f"{flag}: unknown style {name!r}; the styles are "
                             f"{', '.join(STYLES)}")
    return tuple(names)


def draw(sketch: np.ndarray, style: str, seed: int | Sequence[int], whole: bool = False
         ) -> np.ndarray:
    """A [h, w, 3] uint8 sketch redrawn in `style`: [h, w, 3] uint8, black on white.
    `whole`: all of the face drawn (no LEAVES_OUT effect), as a score against the same
    face's pencil sketch needs; the same seed's pen, scale and strokes otherwise."""
    drawing, widths = STYLES[check_styles([style], "style")[0]]
    rng = np.random.default_rng(seed)
    height, width = sketch.shape[:2]
    if rng.random() < AT_CANVAS_SCALE:
        scale = max(1.0, CANVAS / max(height, width))
        pen = int(rng.choice(widths))
    else:
        scale, pen = 1.0, 1 if drawing is not marker else 2
    drawn = drawing(_grey_at(sketch, scale), scale, pen, rng)
    for effect, probability in HAND:
        if rng.random() < probability:
            changed = effect(drawn, scale, rng)  # drawn even when skipped: same random stream
            if not (whole and effect in LEAVES_OUT):
                drawn = changed
    if scale != 1:
        drawn = cv2.resize(drawn, (width, height), interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(drawn, cv2.COLOR_GRAY2RGB)


def input_side(which_direction: str) -> str:
    """Which half of a stored A|B pair holds the model's input image: "left" (A) or
    "right" (B). The rule's one home: exports describe a model by it (Options.input_half)."""
    return "right" if which_direction == "BtoA" else "left"


def input_half(which_direction: str, width: int) -> slice:
    """The columns of a stored A|B pair that hold the model's input image."""
    if input_side(which_direction) == "right":
        return slice(width // 2, width)
    return slice(0, width // 2)


def restyle(images: np.ndarray, which_direction: str, style: str, seed: int) -> np.ndarray:
    """[n, h, w, 3] uint8 pairs with each input sketch redrawn, whole, in a drawn `style`
    (for scoring against the pencil sketch of the same face); pair i drawn with the seed
    (seed, i)."""
    columns = input_half(which_direction, images.shape[2])
    restyled = images.copy()
    for i, image in enumerate(images):
        restyled[i, :, columns] = draw(image[:, columns], style, [seed, i], whole=True)
    return restyled


def style_bank(images: np.ndarray, which_direction: str, styles: tuple[str, ...], seed: int
               ) -> np.ndarray:
    """[n, len(styles) * copies, h, w/2, 3] uint8: every pair's input sketch drawn
    `copies` times in each style (pen width, scale, threshold and hand drawn from (seed,
    i, style, copy)), about BANK_SIZE drawings a pair, once per run, for the training
    pipeline to pick from."""
    copies = max(2, BANK_SIZE // len(styles))
    columns = input_half(which_direction, images.shape[2])

    def drawings(i: int) -> np.ndarray:
        return np.stack([draw(images[i, :, columns], style, [seed, i, s, c])
                         for s, style in enumerate(styles) for c in range(copies)])

    # OpenCV lets go of Python's lock while it draws: a thread a core.
    with ThreadPoolExecutor(os.cpu_count()) as pool:
        return np.stack(list(pool.map(drawings, range(len(images)))))
