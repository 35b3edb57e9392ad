"""Finite-capacity scheduling engine (no Django dependency).

Build a :class:`Problem` from resources (work centers), jobs (work orders)
and tasks (operations), call :func:`solve`, and read planned start and end
minutes from the returned :class:`Solution`.
"""

from .checking import check_solution
from .dispatching import dispatch
from .engine import solve
from .jobshop import JobShopInstance, parse_orlibrary, to_problem
from .problem import Job, Problem, ProblemError, Resource, Schedule, Solution, Task

__all__ = [
    "Job",
    "JobShopInstance",
    "Problem",
    "ProblemError",
    "Resource",
    "Schedule",
    "Solution",
    "Task",
    "check_solution",
    "dispatch",
    "parse_orlibrary",
    "solve",
    "to_problem",
]
