"""A run's options, each declared once: one typed, immutable field with its default, help
and choices, from which pix2pix.py's flags, options.json and the validation all come.

The fields fall into groups, each its own dataclass: what to run (`RunOptions`), how
images become tensors (`DataOptions`, which is all that `Preprocessing` reads), the
networks (`NetworkOptions`), the training recipe (`TrainingOptions`) and how it runs on
the machine (`RuntimeOptions`). `Options` is all of them, flat: `options.crop_size`.
Fields marked `kept` define a trained model; test, export and a resumed run take them
from the training run's options.json. `PRESETS` are named sets of training defaults
that flags given explicitly override.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import os
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from models.core.errors import UsageError, file_errors
from models.core.labels import Labels
from models.core.styles import PENCIL, STYLES, check_styles, input_side

# mode => (input_dir, output_dir) when not given: Liao's layout
DEFAULT_DIRS = {
    "train": ("sketches/Combine", "sketches_train"),
    "test": ("sketches/test", "sketches_test"),
    "export": (None, "sketches_export"),
    "translate": (None, "sketches_translate"),
}

# "liao" is the SketchToFace run as published; the others are measured in docs/experiments.md
PRESETS: dict[str, dict] = {
    "liao": {},
    # the moving average of G's weights with a linear decay over the second half of the
    # default 200 epochs: -3.8% L1 in the 40-epoch screening, level with liao at 200
    "improved": {"ema_decay": 0.999, "lr_decay_epochs": 100},
    # Liao's recipe trained on drawn-style sketches half the time: faces from line drawings;
    # the input blurred by 1 pixel, which drew pencil closer to liao (issue 25's screening)
    "drawn": {"sketch_styles": tuple(STYLES), "sketch_style_prob": 0.5, "input_blur": 1.0},
}


def registered(module: str, registry: str) -> Callable[[], list[str]]:
    """The names in a registry (a dict in a module that imports TensorFlow), looked up
    when a flag is defined or a value checked, not when this module is imported."""
    return lambda: list(getattr(importlib.import_module(module), registry))


def option(default: Any, help: str, *, choices: Sequence[str] | Callable[[], list[str]] = (),
           kept: bool = False, flag: bool = True) -> Any:
    """A field with what its flag needs: `help`, `choices` (names, or a function giving
    a registry's names), `kept` (defines a trained model) and `flag` (False: set by
    the program, not the user)."""
    return dataclasses.field(default=default, metadata={
        "help": help, "choices": choices, "kept": kept, "flag": flag})


def choices_of(field: dataclasses.Field) -> list[str]:
    choices = field.metadata["choices"]
    return list(choices() if callable(choices) else choices)


@dataclass(frozen=True)
class RunOptions:
    mode: str = option("train", "What to do.", choices=tuple(DEFAULT_DIRS))
    preset: str = option(
        "liao", "Training recipe: 'liao' (SketchToFace as published), 'improved' (a moving "
        "average and lr decay; see docs/recipes.md) or 'drawn' (liao, also trained on drawn-style "
        "sketches, its input blurred by a pixel: faces from line drawings). Flags given "
        "explicitly override it.",
        choices=tuple(PRESETS))
    input_dir: str | None = option(
        None, "Folder of A|B images (default: sketches/Combine for train, sketches/test for "
        "test); for translate, one image or a folder of single images.")
    output_dir: str | None = option(None, "Where to write (default: sketches_<mode>).")
    seed: int | None = option(None, "Random seed (default: a random one, printed and saved).")
    checkpoint: str | None = option(
        None, "Folder of a training run: train resumes it, test and export load it, each with "
        "the model flags it was trained with; translate also takes an export's folder "
        "(default for test, export and translate: sketches_train).")
    overwrite: bool = option(False, "Allow writing over an earlier run's outputs.")
    output_filetype: str = option("png", "Format of written images.", choices=("png", "jpeg"))
    format: str = option(
        "savedmodel", "Export: 'onnx' also writes OUTPUT_DIR/onnx/ (model.onnx and the "
        "model.json a page reads), the model that browsers run (tools/serve.py --site) and "
        "onnxruntime runs without TensorFlow; needs pip install -e \".[onnx]\".",
        choices=("savedmodel", "onnx"))
    swap_rb: bool = option(
        False, "Export and translate: the training photos had red and blue swapped "
        "(SketchToFace's have), so swap them back: the model then takes and gives natural "
        "colours. Recorded in the export.")
    label: str | None = option(None, "Test and translate: the label of files whose names do "
                               "not match the model's --label_pattern.")
    input_style: str = option(
        PENCIL, f"Test: redraw each test sketch, whole, in this drawn style "
        f"({', '.join(STYLES)}; seeded by --seed) before translating it; '{PENCIL}' keeps it "
        "as it is.")


@dataclass(frozen=True)
class DataOptions:
    which_direction: str = option("BtoA", "Translate A to B or B to A.",
                                  choices=("AtoB", "BtoA"), kept=True)
    lab_colorization: bool = option(
        False, "Single colour images: learn colour (ab) from brightness (L).", kept=True)
    crop_size: int = option(64, "Model input size; sets the U-Net depth (64: 6 levels, "
                            "256: 8).", kept=True)
    scale_size: int | None = option(
        None, "Scale images to this size before cropping to --crop_size (default: "
        "--crop_size; larger: random jitter).")
    flip: bool = option(True, "Flip training images horizontally.")
    aspect_ratio: float = option(1.0, "Aspect ratio (width/height) of output images.")
    label_pattern: str | None = option(
        None, "Condition G and D on a label: the first capture group of this regular "
        "expression searched in each file name (without extension); SketchToFace's gender: "
        "'^([fm])'.", kept=True)
    labels: tuple[str, ...] = option((), "The label set training found by --label_pattern.",
                                     kept=True, flag=False)

    @property
    def label_set(self) -> Labels:
        return Labels(tuple(self.labels or ()), self.label_pattern)


@dataclass(frozen=True)
class NetworkOptions:
    ngf: int = option(16, "Generator filters in the first conv layer.", kept=True)
    ndf: int = option(16, "Discriminator filters in the first conv layer.", kept=True)
    discriminator: str = option(
        "patchgan", "Discriminator: 'patchgan' (pix2pix's: a verdict per overlapping patch) or "
        "'pixel' (the paper's PixelGAN: a verdict per pixel, 1x1 convolutions).",
        choices=registered("models.nn.networks", "DISCRIMINATORS"), kept=True)
    n_layers_d: int = option(1, "PatchGAN layers between the first and the last (Liao 1, "
                             "Hesse 3).", kept=True)
    decoder: str = option(
        "auto", "U-Net decoder widths: 'liao' (SketchToFace), 'mirrored' (Hesse), or 'auto': "
        "liao at crop 64, mirrored otherwise.",
        choices=registered("models.nn.networks", "DECODERS"), kept=True)
    separable_conv: bool = option(False, "Use separable convolutions in the generator.",
                                  kept=True)
    tf_layers: bool = option(
        False, "The layers of Hesse's final script (tf.layers): convolutions with biases, "
        "batch norm by the fused kernel. Default: Liao's and Hesse's early layers.", kept=True)
    spectral_norm: bool = option(
        False, "Spectral normalisation of the discriminator's convolutions.", kept=True)
    input_blur: float = option(
        0.0, "Blur the input image inside the generator by a Gaussian of this standard "
        "deviation, in pixels at --crop_size (training, test and exports alike): line "
        "drawings in different pens and styles look more alike blurred. 0: none.", kept=True)
    inference_dropout: bool = option(
        True, "Keep dropout on at test and export time, as pix2pix does; "
        "--noinference_dropout makes outputs deterministic.")


@dataclass(frozen=True)
class TrainingOptions:
    max_steps: int | None = option(None, "Number of training steps (overrides --max_epochs).")
    max_epochs: int = option(200, "Number of training epochs.")
    batch_size: int = option(1, "Images per batch.")
    gan_loss: str = option(
        "vanilla", "Adversarial loss: pix2pix's cross-entropy ('vanilla'), least squares "
        "('lsgan') or 'hinge'.", choices=registered("models.nn.losses", "GAN_LOSSES"), kept=True)
    lr: float = option(0.0002, "Initial learning rate for Adam.")
    beta1: float = option(0.5, "Momentum term of Adam.")
    l1_weight: float = option(100.0, "Weight on the L1 term of the generator loss.")
    gan_weight: float = option(1.0, "Weight on the GAN term of the generator loss.")
    update_order: str = option(
        "original", "'original': G's gradient is taken after D's update, its backward pass "
        "through D reading D's updated weights, as the original's TF1 step did; "
        "'simultaneous': both gradients from the weights before either update.",
        choices=registered("models.nn.gan", "UPDATE_ORDERS"), kept=True)
    lr_decay_epochs: int = option(
        0, "Decay the learning rate linearly to zero over the last N epochs (0: constant, as "
        "pix2pix).", kept=True)
    ema_decay: float = option(
        0.0, "Test and export with a moving average of the generator's weights, updated every "
        "step with this decay (e.g. 0.999; 0: the weights as trained).", kept=True)
    shuffle_labels: bool = option(
        False, "Train on labels shuffled among the images (a control: what label "
        "conditioning gains without the labels' meaning).")
    sketch_styles: tuple[str, ...] = option(
        (), f"Train also on drawn-style sketches: these styles ({', '.join(STYLES)}), each "
        "pair's sketch redrawn in a random one of them with probability --sketch_style_prob "
        "(models/core/styles.py).")
    sketch_style_prob: float = option(
        0.5, "With --sketch_styles: the probability that a training image's sketch is "
        "replaced by a drawn-style copy.")
    summary_freq: int = option(100, "Write TensorBoard summaries every N steps.")
    progress_freq: int = option(50, "Print progress every N steps.")
    trace_freq: int = option(0, "Profile one step every N steps (TensorBoard profiler).")
    display_freq: int = option(0, "Write training images and index.html every N steps.")
    save_freq: int = option(5000, "Save a checkpoint every N steps, 0 to disable.")


@dataclass(frozen=True)
class RuntimeOptions:
    intra_op_threads: int | None = option(
        None, "Threads inside one op (default: 1 at crop 64 and below, where it measured "
        "fastest; else TensorFlow's choice).")
    inter_op_threads: int | None = option(
        None, "Ops run at once (default: 2 at crop 64 and below; else TensorFlow's choice).")
    strategy: str = option(
        "auto", "tf.distribute strategy for training: 'mirrored' over this machine's GPUs (or "
        "--cpu_devices), 'multi_worker' over the machines in $TF_CONFIG, 'one_device', or "
        "'auto': mirrored when several GPUs are visible.",
        choices=("auto", "one_device", "mirrored", "multi_worker"))
    cpu_devices: int = option(
        1, "Without GPUs, split the CPU into this many devices for --strategy mirrored (to "
        "try data parallelism on one machine).")
    sync_batch_norm: bool = option(
        False, "With several replicas, normalise with the statistics of the whole global "
        "batch, as one device with that batch would, instead of each replica's own images.")
    mixed_precision: str = option(
        "off", "Compute in float16 (with loss scaling; for GPUs) or bfloat16, keeping float32 "
        "weights.", choices=("off", "float16", "bfloat16"))
    xla: bool = option(False, "Compile the train step with XLA, on one device (on CPU at "
                       "64x64 it measured over 2x slower).")


@dataclass(frozen=True)
class Options(RuntimeOptions, TrainingOptions, NetworkOptions, DataOptions, RunOptions):
    """Every option; the checks of their values are here and nowhere else."""

    def __post_init__(self):
        def set_(name: str, value) -> None:  # frozen: values are normalised on the way in
            object.__setattr__(self, name, value)

        set_("labels", tuple(self.labels or ()))  # null in old runs
        set_("sketch_styles", check_styles(tuple(self.sketch_styles), "--sketch_styles"))
        if self.scale_size is None:
            set_("scale_size", self.crop_size)
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if value == field.default:
                # valid (its flag's parser checks it), and looking up a registry's
                # names imports TensorFlow: Options() with its defaults does without
                continue
            choices = choices_of(field)
            if choices and value not in choices:
                raise UsageError(f"--{field.name} must be one of {', '.join(choices)}, got "
                                 f"{value}")
        if self.input_style != PENCIL:
            check_styles([self.input_style], "--input_style")
        if not 0 <= self.sketch_style_prob <= 1:
            raise UsageError(f"--sketch_style_prob {self.sketch_style_prob}: not in [0, 1]")
        if self.lab_colorization and (self.sketch_styles or self.input_style != PENCIL):
            raise UsageError("--sketch_styles and --input_style redraw sketches; "
                             "--lab_colorization has none")
        if self.scale_size < self.crop_size:
            raise UsageError(f"--scale_size {self.scale_size} is smaller than --crop_size "
                             f"{self.crop_size}")
        if self.crop_size < 4 or self.crop_size & (self.crop_size - 1):
            raise UsageError(f"--crop_size must be a power of two of at least 4, got "
                             f"{self.crop_size}")  # the U-Net halves it down to 1x1
        if self.n_layers_d < 1:
            raise UsageError(f"--n_layers_d must be at least 1, got {self.n_layers_d}")
        if not 0 <= self.input_blur <= self.crop_size / 8:
            raise UsageError(f"--input_blur must be between 0 and {self.crop_size / 8:g} "
                             f"(pixels), got {self.input_blur:g}")

    @property
    def input_half(self) -> str | None:
        """Which half of an A|B pair file the model reads ("left" for A, "right" for B),
        so that a page given a pair can use it; None for lab colorization, where one image
        is the pair."""
        if self.lab_colorization:
            return None
        return input_side(self.which_direction)

    @property
    def description(self) -> dict:
        """What an export says about itself beyond its graph, for whoever runs it: the
        SavedModel's description file and ONNX's model.json both hold it, so that
        tools/serve.py and the page read it there rather than derive it again."""
        return {"crop_size": self.crop_size, "labels": list(self.labels),
                "label_pattern": self.label_pattern, "swap_rb": self.swap_rb,
                "inference_dropout": self.inference_dropout, "input_half": self.input_half}

    @property
    def trained_model(self) -> str:
        """The training run a model is read from: --checkpoint, else the folder training
        writes to by default."""
        return self.checkpoint or DEFAULT_DIRS["train"][1]

    def replace(self, **changes) -> Options:
        return dataclasses.replace(self, **changes)

    def to_json(self) -> dict:
        return {**dataclasses.asdict(self), "labels": list(self.labels),
                "sketch_styles": list(self.sketch_styles)}

    @classmethod
    def from_json(cls, content: dict) -> Options:
        """Options from an options.json; keys that are no longer options are ignored."""
        names = {field.name for field in dataclasses.fields(cls)}
        return cls(**{key: value for key, value in content.items() if key in names})

    def save(self, folder: str) -> None:
        path = os.path.join(folder, "options.json")
        with file_errors(path):
            os.makedirs(folder, exist_ok=True)
            with open(path, "w") as file:
                json.dump(self.to_json(), file, sort_keys=True, indent=4)

    def trained(self) -> tuple[Options, list[str]]:
        """These options with the kept ones of the training run in --checkpoint, and the
        names of those that changed."""
        path = os.path.join(self.checkpoint, "options.json")
        try:
            with open(path) as file:
                content = json.load(file)
        except FileNotFoundError:
            raise UsageError(f"--checkpoint {self.checkpoint}: no options.json; is it the "
                             "--output_dir of a training run?") from None
        except OSError as error:
            raise UsageError(f"{path}: {error.strerror or error}") from None
        except ValueError as error:
            raise UsageError(f"{path}: not valid JSON ({error})") from None
        return self.with_kept(content)

    def with_kept(self, content: dict) -> tuple[Options, list[str]]:
        """These options with the kept ones that `content` (options.json's keys) holds,
        and the names of those that changed."""
        trained = Options.from_json(content)
        changes = {name: getattr(trained, name) for name in KEPT
                   if name in content and getattr(trained, name) != getattr(self, name)}
        scale = {}
        if "crop_size" in changes and self.scale_size == self.crop_size:  # the default
            scale = {"scale_size": changes["crop_size"]}
        return self.replace(**changes, **scale), list(changes)


FIELDS = {field.name: field for field in dataclasses.fields(Options)}
KEPT = tuple(name for name, field in FIELDS.items() if field.metadata["kept"])
NO_FLIP = "no_flip"  # Hesse's spelling of --noflip, kept as a flag of its own


class Negatable(argparse.Action):
    """A boolean flag spelt as absl, which parsed them before, spells it: --NAME sets it,
    --noNAME clears it."""

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__([*option_strings, f"--no{dest}"], dest, nargs=0, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        setattr(namespace, self.dest, option_string != f"--no{self.dest}")


def comma_list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def define_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per option, with the field's name, help and choices (a comma-separated
    list for a tuple). A flag not given is absent from the parsed namespace, so that a
    preset can tell it from a default."""
    for name, field in FIELDS.items():
        if not field.metadata["flag"]:
            continue
        default, help = field.default, field.metadata["help"]
        if default not in (None, ()):
            help += f" (default: {','.join(default) if isinstance(default, tuple) else default})"
        if isinstance(default, bool):
            parser.add_argument(f"--{name}", action=Negatable, default=argparse.SUPPRESS, help=help)
            continue
        kind = {"int": int, "float": float}.get(field.type.split(" ")[0], str)
        parser.add_argument(f"--{name}", type=comma_list if isinstance(default, tuple) else kind,
                            choices=choices_of(field) or None, default=argparse.SUPPRESS, help=help)
    parser.add_argument(f"--{NO_FLIP}", action="store_true", default=argparse.SUPPRESS,
                        help="Don't flip training images (Hesse's spelling).")


def from_flags(given: argparse.Namespace) -> Options:
    """The parsed flags (those given, as define_flags leaves them) as Options: the preset's
    values for the flags not given, then the mode's default folders and a random seed if
    none was given."""
    given = vars(given)
    values = {name: given.get(name, field.default) for name, field in FIELDS.items()
              if field.metadata["flag"]}
    values = with_preset(values["preset"], set(given), values)
    values["flip"] = values["flip"] and not given.get(NO_FLIP, False)
    default_input, default_output = DEFAULT_DIRS.get(values["mode"], (None, None))
    values["input_dir"] = values["input_dir"] or default_input
    values["output_dir"] = values["output_dir"] or default_output
    if values["seed"] is None:
        values["seed"] = random.randint(0, 2**31 - 1)
    return Options(**values)


def with_preset(preset: str, given: set[str], values: dict) -> dict:
    """Flag values with the preset's defaults for the flags not given explicitly (an
    unknown preset is Options' to refuse)."""
    return {**values, **{name: value for name, value in PRESETS.get(preset, {}).items()
                         if name not in given}}
