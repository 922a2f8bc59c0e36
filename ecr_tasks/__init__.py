"""ecr-tasks: Invoke tasks for Amazon ECR (login, uri, tag, push, pull).

``from ecr_tasks import ns`` gives the task collection. Importing it stays
cheap on purpose: boto3 is loaded only when a task needs AWS, so
``inv --list`` is as fast as with an empty ``tasks.py``.
"""

from ecr_tasks._version import __version__
from ecr_tasks.tasks import ns

__all__ = ["__version__", "ns"]
