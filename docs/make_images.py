"""Makes the README's pictures in docs/images/ (small PNGs; rerun to refresh them).

    python docs/make_images.py --data sketches --runs runs/drawn200 --unseen_runs runs/styles60

- styles.png: one test face's drawings, six in every drawn style (tools/restyle.py
  --sheet, its top row, the dataset's own pencil sketch, cut off).
- drawn_to_face.png: drawings -> faces, before (Liao's recipe) and after (--preset
  drawn): a face drawn as on the demo page, and held-out faces redrawn in each style,
  from the cross-validation in --runs (docs/experiments.md; fold 0's models, and each
  face's own held-out fold). Natural colours: red and blue swapped back.
- unseen_styles.png: held-out faces drawn in each style of the leave-one-style-out
  cross-validation in --unseen_runs, through liao, the first drawn recipe (three styles)
  and today's --preset drawn (family_blur1) trained on every style but that one.

Only pictures we made are committed: drawings and model outputs, never a dataset image
(no pencil sketch, no target photo).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw

from models.core.styles import STYLES

REPO = Path(__file__).resolve().parent.parent
IMAGES = REPO / "docs" / "images"
VARIANTS = {"liao": "before: liao", "drawn": "after: drawn"}
FACES = {"outline": "f016", "marker": "m050", "contour": "f034"}  # held-out face per style
UNSEEN_VARIANTS = {"liao": "liao", "drawn3": "first drawn",
                   "family_blur1-without-{}": "never saw it"}
ZOOM = 2


def page_drawing() -> np.ndarray:
    """A face as drawn with the page's 3-pixel pen on its 256x256 canvas, shrunk to 64x64
    as the model sees it: outline, hair line, eyes, brows, nose, mouth."""
    canvas = np.full((256, 256), 255, np.uint8)
    pen = {"color": 0, "thickness": 3, "lineType": cv2.LINE_AA}
    cv2.ellipse(canvas, (128, 140), (62, 80), 0, 0, 360, **pen)
    cv2.ellipse(canvas, (128, 120), (78, 95), 0, 180, 360, **pen)
    for x in (102, 154):
        cv2.ellipse(canvas, (x, 125), (12, 6), 0, 0, 360, **pen)
        cv2.line(canvas, (x - 14, 108), (x + 14, 106), **pen)
    cv2.polylines(canvas, [np.array([[128, 130], [120, 165], [136, 165]])], False, **pen)
    cv2.ellipse(canvas, (128, 190), (20, 6), 0, 0, 180, **pen)
    return cv2.cvtColor(cv2.resize(canvas, (64, 64), interpolation=cv2.INTER_AREA),
                        cv2.COLOR_GRAY2RGB)


def rgb(path: Path, swap: bool = True) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)  # BGR: as stored, swapped back
    return image if swap else cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def translated(drawing: np.ndarray, runs: Path, variant: str, work: Path) -> np.ndarray:
    """The drawing through a variant's fold-0 generator (dropout off), natural colours."""
    cv2.imwrite(str(work / "drawing.png"), drawing)
    train_dir, out = runs / variant / "seed1" / "fold0" / "train", work / variant
    subprocess.run([sys.executable, str(REPO / "pix2pix.py"), "--mode", "translate",
                    "--checkpoint", str(train_dir), "--input_dir", str(work / "drawing.png"),
                    "--output_dir", str(out), "--noinference_dropout", "--seed", "1",
                    "--swap_rb"], check=True, capture_output=True)
    return rgb(out / "images" / "drawing-outputs.png", swap=False)


def held_out(runs: Path, variant: str, style: str, name: str, kind: str) -> np.ndarray:
    fold = json.loads((runs / "folds.json").read_text())[f"{name}.png"]
    folder = runs / variant / "seed1" / f"fold{fold}" / style / "images"
    return rgb(folder / f"{name}-{kind}.png", swap=kind != "inputs")


def grid(rows: list[tuple[str, list[np.ndarray]]], columns: list[str]) -> Image.Image:
    size = 64 * ZOOM
    picture = Image.new("RGB", (110 + size * len(columns), 18 + size * len(rows)), "white")
    text = ImageDraw.Draw(picture)
    for c, heading in enumerate(columns):
        text.text((110 + c * size + 4, 3), heading, fill="black")
    for r, (label, tiles) in enumerate(rows):
        text.text((4, 18 + r * size + size // 2 - 6), label, fill="black")
        for c, tile in enumerate(tiles):
            picture.paste(Image.fromarray(tile).resize((size, size), Image.NEAREST),
                          (110 + c * size, 18 + r * size))
    return picture


def styles_sheet(data: Path) -> None:
    (IMAGES / "styles.png").unlink(missing_ok=True)
    subprocess.run([sys.executable, str(REPO / "tools" / "restyle.py"), "--input_dir",
                    str(data / "test"), "--sheet", str(IMAGES / "styles.png"),
                    "--name", "f005"], check=True)
    sheet = Image.open(IMAGES / "styles.png")
    pencil_height = sheet.height // (1 + len(STYLES))  # the top row: the dataset's sketch
    sheet.crop((0, pencil_height, sheet.width, sheet.height)).convert("L").save(
        IMAGES / "styles.png", optimize=True)  # drawings are grey: one channel


def drawn_to_face(runs: Path) -> None:
    drawing = page_drawing()
    with tempfile.TemporaryDirectory() as work:
        drawn_row = [drawing, *(translated(drawing, runs, variant, Path(work))
                                for variant in VARIANTS)]
    rows = [("drawn on the page", drawn_row)]
    for style, name in FACES.items():
        rows.append((f"{name}, {style}", [
            held_out(runs, "liao", style, name, "inputs"),
            *(held_out(runs, v, style, name, "outputs") for v in VARIANTS)]))
    grid(rows, ["drawing", *VARIANTS.values()]).save(
        IMAGES / "drawn_to_face.png", optimize=True)


def unseen_styles(runs: Path) -> None:
    """Held-out faces drawn in the styles of the leave-one-style-out run (--unseen_runs):
    each through liao, the first drawn recipe and today's --preset drawn trained without
    that style."""
    content = json.loads((runs / "summary.json").read_text())
    names = content["images"]["liao"]["dropout"]["names"]
    rows = []
    for i, style in enumerate(content["styles"]):
        name = names[7 * i + 3]  # a different face for each style
        rows.append((f"{name}, {style}", [
            held_out(runs, "liao", style, name, "inputs"),
            *(held_out(runs, variant.format(style), style, name, "outputs")
              for variant in UNSEEN_VARIANTS)]))
    grid(rows, ["drawing", *UNSEEN_VARIANTS.values()]).save(
        IMAGES / "unseen_styles.png", optimize=True)


PICTURES = {"styles": styles_sheet, "drawn_to_face": drawn_to_face,
            "unseen_styles": unseen_styles}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=REPO / "sketches",
                        help="the SketchToFace folder (tools/download-dataset.py's)")
    parser.add_argument("--runs", type=Path, default=REPO / "runs" / "drawn200",
                        help="the cross-validation of liao and drawn (docs/experiments.md)")
    parser.add_argument("--unseen_runs", type=Path, default=REPO / "runs" / "styles60",
                        help="the leave-one-style-out cross-validation (docs/experiments.md)")
    parser.add_argument("--picture", action="append", choices=list(PICTURES),
                        help="make this picture alone (repeatable; default: all)")
    args = parser.parse_args()
    IMAGES.mkdir(parents=True, exist_ok=True)
    sources = {"styles": args.data, "drawn_to_face": args.runs,
               "unseen_styles": args.unseen_runs}
    for picture in args.picture or list(PICTURES):
        PICTURES[picture](sources[picture])
        print(f"wrote {IMAGES / picture}.png")


if __name__ == "__main__":
    main()
