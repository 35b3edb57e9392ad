"""Working-time arithmetic on a resource calendar.

A calendar is a list of open windows ``[a, b)``. A task that may not be split
starts at ``s`` with ``a <= s`` and ``s + duration <= b`` for one window. A
split task starts on a working minute and ends once it has consumed
``duration`` working minutes: its end is the first instant ``e`` with
``working(s, e) == duration``, so ``e`` is always inside or at the end of a
window. Zero-length tasks follow the unsplit rule.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence

Segment = tuple[int, int, int]
"""``(first_start, last_start, elapsed)``: starts in that range span ``elapsed`` minutes."""


class Calendar:
    """Open windows of one resource; ``None`` windows mean always open."""

    def __init__(self, open_intervals: Sequence[tuple[int, int]] | None) -> None:
        self.always_open = open_intervals is None
        windows = _merge(open_intervals or ())
        self.starts = [a for a, _ in windows]
        self.ends = [b for _, b in windows]
        self.cum: list[int] = []
        total = 0
        for a, b in windows:
            self.cum.append(total)
            total += b - a
        self.cum_end = [c + (b - a) for c, (a, b) in zip(self.cum, windows, strict=True)]
        self.longest = max((b - a for a, b in windows), default=0)

    @property
    def last_end(self) -> int | None:
        """End of the last window, ``None`` for an always-open calendar."""
        if self.always_open:
            return None
        return self.ends[-1] if self.ends else 0

    def splits(self, duration: int, allow_split: bool) -> bool:
        """Whether a task of ``duration`` is placed by working-time rules."""
        return allow_split and duration > 0 and not self.always_open

    def working_before(self, t: int) -> int:
        """Working minutes in the calendar before instant ``t``."""
        k = bisect_right(self.starts, t) - 1
        if k < 0:
            return 0
        return self.cum[k] + min(t, self.ends[k]) - self.starts[k]

    def next_start(self, t: int, duration: int, split: bool) -> int | None:
        """Earliest valid start at or after ``t`` (``None`` if there is none)."""
        if self.always_open:
            return t
        if split:
            k = bisect_right(self.ends, t)
            return max(t, self.starts[k]) if k < len(self.starts) else None
        if duration > self.longest:
            return None
        for k in range(bisect_left(self.ends, t), len(self.starts)):
            s = max(t, self.starts[k])
            if s + duration <= self.ends[k]:
                return s
        return None

    def finish(self, start: int, duration: int, split: bool) -> int | None:
        """End of a task started at ``start`` (``None`` past the calendar)."""
        if not split or self.always_open:
            return start + duration
        target = self.working_before(start) + duration
        j = bisect_left(self.cum_end, target)
        if j >= len(self.starts):
            return None
        return self.starts[j] + target - self.cum[j]

    def latest_start(self, latest_end: int, duration: int, split: bool) -> int | None:
        """Latest valid start whose task ends by ``latest_end``."""
        if self.always_open:
            return latest_end - duration
        if split:
            target = self.working_before(latest_end) - duration
            if target < 0:
                return None
            k = bisect_right(self.cum_end, target)
            return self.starts[k] + target - self.cum[k]
        for k in range(bisect_right(self.starts, latest_end) - 1, -1, -1):
            s = min(latest_end, self.ends[k]) - duration
            if s >= self.starts[k]:
                return s
        return None

    def start_segments(self, lo: int, hi: int, duration: int, split: bool) -> list[Segment]:
        """Valid starts in ``[lo, hi]`` grouped into ranges of equal elapsed time."""
        if lo > hi:
            return []
        if self.always_open:
            return [(lo, hi, duration)]
        first = bisect_left(self.ends, lo)
        last = bisect_right(self.starts, hi)
        segments: list[Segment] = []
        for k in range(first, last):
            if split:
                segments.extend(self._split_segments(k, lo, hi, duration))
            else:
                a, b = max(lo, self.starts[k]), min(hi, self.ends[k] - duration)
                if a <= b:
                    segments.append((a, b, duration))
        return segments

    def _split_segments(self, k: int, lo: int, hi: int, duration: int) -> list[Segment]:
        window_start = self.starts[k]
        first, last = max(lo, window_start), min(hi, self.ends[k] - 1)
        offset_k = window_start - self.cum[k]
        segments: list[Segment] = []
        s = first
        while s <= last:
            target = self.cum[k] + s - window_start + duration
            j = bisect_left(self.cum_end, target)
            if j >= len(self.starts):
                break
            s_last = min(last, window_start + self.cum_end[j] - duration - self.cum[k])
            elapsed = duration + (self.starts[j] - self.cum[j]) - offset_k
            segments.append((s, s_last, elapsed))
            s = s_last + 1
        return segments

    def is_valid(self, start: int, end: int, duration: int, split: bool) -> bool:
        """Whether ``[start, end)`` is a valid placement of ``duration`` minutes."""
        if self.always_open or not split:
            if end != start + duration:
                return False
            return self.always_open or self.next_start(start, duration, False) == start
        if self.next_start(start, duration, True) != start:
            return False
        return self.finish(start, duration, True) == end


def _merge(intervals: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for a, b in sorted(intervals):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged
