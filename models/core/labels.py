"""A model's labels (--label_pattern): the one object that training, test, export, the
servers and the ONNX runner ask, and the one place a label is checked. Without
TensorFlow, so that tools/translate.py starts quickly."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from models.core.errors import UsageError


def labels_of(names: Sequence[str], pattern: str, fallback: str | None = None) -> list[str]:
    """Each name's label: the first capture group of `pattern` searched in the name (the
    file name without its extension); `fallback` for names it does not match."""
    try:
        regex = re.compile(pattern)
    except re.error as error:
        raise UsageError(f"--label_pattern {pattern!r}: not a regular expression ({error})") \
            from None
    if regex.groups < 1:
        raise UsageError(f"--label_pattern {pattern!r}: needs a capture group, as in '^([fm])'")
    labels = []
    for name in names:
        match = regex.search(name)
        if match and match.group(1):
            labels.append(match.group(1))
        elif fallback is not None:
            labels.append(fallback)
        else:
            raise UsageError(f"{name}: its name does not match --label_pattern {pattern!r}; "
                             "give its label with --label")
    return labels


@dataclass(frozen=True)
class Labels:
    """The labels a model was trained with (`known`, empty for an unlabelled model) and
    the pattern that finds one in a file name. The empty label "" stands for any label:
    every label weighs the same."""

    known: tuple[str, ...] = ()
    pattern: str | None = None

    def __bool__(self) -> bool:
        return bool(self.known)

    def __len__(self) -> int:
        return len(self.known)

    @classmethod
    def found(cls, names: Sequence[str], pattern: str) -> tuple[Labels, list[str]]:
        """Training: the label set of `names` and each name's label."""
        labels = labels_of(names, pattern)
        return cls(tuple(sorted(set(labels))), pattern), labels

    def check(self, labels: Sequence[str | None]) -> None:
        """Raises UsageError for a label this model does not know ("" and None pass)."""
        given = [label for label in labels if label]
        if given and not self.known:
            raise UsageError(f"label {given[0]!r}: the model was trained without labels; "
                             "give none")
        unknown = [label for label in given if label not in self.known]
        if unknown:
            raise UsageError(f"unknown label {unknown[0]!r}; the model knows "
                             f"{', '.join(self.known)}")

    def check_flag(self, label: str | None, source: str) -> None:
        """--label makes sense only for a model trained with labels."""
        if label and not self.known:
            raise UsageError(f"--label {label}: the model in {source} was trained without "
                             "labels")

    def index(self, label: str) -> int:
        self.check([label])
        return self.known.index(label)

    def of_names(self, names: Sequence[str], fallback: str | None = None) -> list[str]:
        """Each file name's label (`fallback`: --label, for names the pattern misses),
        all checked."""
        labels = labels_of(names, self.pattern, fallback)
        self.check(labels)
        return labels

    def of_files(self, paths: Sequence[Path], fallback: str | None,
                 source: str) -> list[str | None]:
        """Each image file's label, checked before anything is written; None for each
        file when the model has no labels."""
        self.check_flag(fallback, source)
        if not self.known:
            return [None] * len(paths)
        return self.of_names([path.stem for path in paths], fallback)

    def weights(self, label: str = "") -> np.ndarray:
        """The label's input planes' weights: one-hot, or uniform for ""."""
        self.check([label])
        if not label:
            return np.full(len(self.known), 1 / len(self.known), np.float32)
        return np.array([float(each == label) for each in self.known], np.float32)
