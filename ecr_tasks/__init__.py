"""ecr-tasks: Invoke tasks for Amazon ECR (login, uri, tag, push, pull).

``from ecr_tasks import ns`` gives the task collection. Importing it stays
cheap on purpose: boto3 is loaded only when a task needs AWS, so
``inv --list`` is as fast as with an empty ``tasks.py``. The collection
itself is loaded on first use, so that ``ecr_tasks.naming`` (the host
parser a credential helper needs) imports without invoke.
"""

from __future__ import annotations

from ecr_tasks._version import __version__

__all__ = ["__version__", "ns"]


def __getattr__(name: str) -> object:
    if name == "ns":
        from ecr_tasks.tasks import ns

        return ns
    raise AttributeError(f"module 'ecr_tasks' has no attribute {name!r}")
