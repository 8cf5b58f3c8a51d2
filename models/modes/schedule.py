"""Which training events fall due at which step: a pure function, so the loop that acts
on it stays short and the schedule can be tested on its own."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

EVENTS = ("summary", "progress", "trace", "display", "save")  # each has a --NAME_freq


def schedule(start: int, max_steps: int,
             frequencies: Mapping[str, int]) -> Iterator[tuple[int, frozenset[str]]]:
    """The steps after `start` at which anything is due, with what is due there.

    An event with frequency f is due at every multiple of f; every event with a
    frequency is also due at the last step, so the run ends with a checkpoint, a
    summary and a progress line. Frequency 0 switches an event off. The last step
    is always yielded, even when nothing is due there.
    """
    active = {name: f for name, f in frequencies.items() if f > 0}
    step = start
    while step < max_steps:
        step = min([max_steps] + [(step // f + 1) * f for f in active.values()])
        yield step, frozenset(name for name, f in active.items()
                              if step % f == 0 or step == max_steps)
