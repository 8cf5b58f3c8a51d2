"""Labels from file names (--label_pattern): for training, test and translation alike,
without TensorFlow, so that tools/translate.py starts quickly."""

from __future__ import annotations

import re
from pathlib import Path

from models.errors import UsageError


def labels_of(names: list[str], pattern: str, fallback: str | None = None) -> list[str]:
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


def check_label_flag(label: str | None, known, source: str) -> None:
    """--label makes sense only for a model trained with labels."""
    if label and not known:
        raise UsageError(f"--label {label}: the model in {source} was trained without labels")


def check_labels(labels, known) -> None:
    """Raises UsageError for a label the model was not trained with ("" is none)."""
    unknown = [label for label in labels if label and label not in known]
    if unknown:
        raise UsageError(f"unknown label {unknown[0]!r}; the model knows {', '.join(known)}")


def file_labels(paths: list[Path], known, pattern: str, label: str | None,
                source: str) -> list[str | None]:
    """Each image file's label for a model that knows the labels `known`: from its name by
    `pattern`, else `label` (--label), all checked before anything is written; None for
    each file when the model has no labels."""
    check_label_flag(label, known, source)
    if not known:
        return [None] * len(paths)
    labels = labels_of([path.stem for path in paths], pattern, label)
    check_labels(labels, known)
    return labels
