"""What the tasks after this one on the same command line ask for.

Invoke hands each flag to the task it follows, so in
``inv login push --tag v1 --region eu-west-1`` the region is push's and
``login`` sees none. Users write exactly that, meaning one region for both;
so ``login``, given no registry of its own, reads the flags of our tasks
that follow it from the parse result of the program running them.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

#: The flags of a following task that say which registry it works with.
REGISTRY_FLAGS = ("region", "account", "profile", "registry", "image")


def _running_program() -> Any:
    # ``inv`` (invoke.main) or our own console script (ecr_tasks.cli): the
    # one that parsed a command line has its task contexts in ``tasks``.
    for module_name in ("ecr_tasks.cli", "invoke.main"):
        program = getattr(sys.modules.get(module_name), "program", None)
        if program is not None and getattr(program, "tasks", None):
            return program
    return None


def _body(program: Any, name: str) -> Callable[..., Any] | None:
    try:
        body: Callable[..., Any] = program.collection[name].body
        return body
    except (KeyError, AttributeError, TypeError, ValueError):
        return None


def flags_after(
    this: Callable[..., Any], followers: tuple[Callable[..., Any], ...]
) -> list[dict[str, Any]]:
    """The registry flags given to each of ``followers`` that comes after
    ``this`` on the command line (up to the next ``this``), in order.

    Tasks are matched by their function, so aliases and a collection nested
    under a name of the user's (``ecr.login``) are found alike. Called from
    Python rather than from a command line, there is nothing to read: [].
    """
    program = _running_program()
    if program is None:
        return []
    bodies = [_body(program, context.name) for context in program.tasks]
    if this not in bodies:
        return []
    start = bodies.index(this) + 1
    found = []
    for context, body in zip(program.tasks[start:], bodies[start:], strict=True):
        if body is this:
            break
        if body in followers:
            found.append(
                {
                    name: context.args[name].value
                    for name in REGISTRY_FLAGS
                    if name in context.args and context.args[name].value not in (None, [], "")
                }
            )
    return found
