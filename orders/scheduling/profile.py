"""Step-function load profile of one resource, used by the dispatching rule."""

from __future__ import annotations

from bisect import bisect_left, bisect_right

from .calendar import Calendar

_FAR_PAST = -(1 << 62)


class LoadProfile:
    """Number of busy units over time: ``levels[i]`` holds on ``[times[i], times[i + 1])``."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.times: list[int] = [_FAR_PAST]
        self.levels: list[int] = [0]

    def add(self, start: int, end: int) -> None:
        """Occupy one unit on ``[start, end)``."""
        if end <= start:
            return
        first = self._breakpoint(start)
        last = self._breakpoint(end)
        for i in range(first, last):
            self.levels[i] += 1

    def earliest_fit(self, ready: int, duration: int, calendar: Calendar, split: bool) -> tuple[int, int] | None:
        """Earliest ``(start, end)`` at or after ``ready`` with a free unit throughout."""
        t = ready
        while True:
            start = calendar.next_start(t, duration, split)
            if start is None:
                return None
            end = calendar.finish(start, duration, split)
            if end is None:
                return None
            full = self._first_full(start, end)
            if full is None:
                return start, end
            t = self._next_free(full)

    def _breakpoint(self, t: int) -> int:
        i = bisect_left(self.times, t)
        if i < len(self.times) and self.times[i] == t:
            return i
        self.times.insert(i, t)
        self.levels.insert(i, self.levels[i - 1])
        return i

    def _first_full(self, start: int, end: int) -> int | None:
        if end <= start:
            return None
        i = bisect_right(self.times, start) - 1
        while i < len(self.times) and self.times[i] < end:
            if self.levels[i] >= self.capacity:
                return i
            i += 1
        return None

    def _next_free(self, i: int) -> int:
        while self.levels[i] >= self.capacity:
            i += 1
        return self.times[i]
