"""What evaluating one template may cost: work, size of every value, and time.

Azure refuses templates over 4 MB and caps copy loops at 800, but a short template can still
ask for exponential work (a variable that doubles an array 25 times, ``mul()`` squaring a number
29 times).  Every expression evaluation draws on one :class:`Budget` per deployment; values are
checked as they are built, before the memory is spent.  When the budget is exceeded, the
expression that exceeded it becomes a finding (VMSS005) and the rest of the file is still checked.
"""

from __future__ import annotations

import time

#: Characters in one string value.
MAX_STRING = 4 * 1024 * 1024
#: Items in one array or members in one object.
MAX_ITEMS = 200_000
#: ARM integers are 64-bit.
INT_MIN, INT_MAX = -2 ** 63, 2 ** 63 - 1
#: Evaluation steps (nodes visited plus items built) for one deployment.
MAX_STEPS = 20_000_000
#: Wall-clock seconds for evaluating one file, as a last resort.
DEFAULT_SECONDS = 5.0


class LimitExceeded(Exception):
    """Evaluation would exceed vmsslint's budget (not an error of the template)."""


class Budget:
    __slots__ = ("steps", "max_steps", "deadline", "seconds", "_next_clock", "expired")

    def __init__(self, max_steps: int = MAX_STEPS, seconds: float | None = DEFAULT_SECONDS):
        self.steps = 0
        self.max_steps = max_steps
        self.seconds = seconds
        self.deadline = None if not seconds else time.monotonic() + seconds
        self._next_clock = 4096
        self.expired = None

    def tick(self, n: int = 1):
        self.steps += n
        if self.steps >= self._next_clock:
            self._next_clock = self.steps + 4096
            if self.expired is None:
                if self.steps > self.max_steps:
                    self.expired = (f"evaluating this template takes more than {self.max_steps:,} steps; "
                                    f"the rest of its expressions are not evaluated")
                elif self.deadline is not None and time.monotonic() > self.deadline:
                    self.expired = (f"evaluating this template takes longer than {self.seconds:g} s "
                                    f"(--eval-timeout); the rest of its expressions are not evaluated")
        if self.expired is not None:
            raise LimitExceeded(self.expired)


def check_int(value, what: str = "the result"):
    if isinstance(value, int) and not isinstance(value, bool) and not INT_MIN <= value <= INT_MAX:
        from linter.arm.expr import EvalError
        raise EvalError(f"{what} does not fit in a 64-bit integer (Azure's integers are 64-bit)")
    return value


def check_string_size(n: int, fname: str):
    if n > MAX_STRING:
        raise LimitExceeded(f"{fname}() would build a string of {n:,} characters; vmsslint evaluates strings "
                            f"up to {MAX_STRING:,}")


def check_items(n: int, fname: str):
    if n > MAX_ITEMS:
        raise LimitExceeded(f"{fname}() would build {n:,} items; vmsslint evaluates arrays and objects up to "
                            f"{MAX_ITEMS:,}")
