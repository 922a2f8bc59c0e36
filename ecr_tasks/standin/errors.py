"""The one error the stand-in raises when a part cannot start or is misused."""

from __future__ import annotations


class StandinError(RuntimeError):
    """A part of the local ECR stand-in is missing, failed to start or is not ours.

    The message is one line that names the part and, where we know it, the fix.
    ``part`` is ``"api"``, ``"registry"``, ``"engine"``, ``"faults"`` or ``"stack"``
    so that callers (the test-suite) can decide to skip only what depends on it.
    """

    def __init__(self, message: str, part: str = "stack") -> None:
        super().__init__(message)
        self.part = part
