"""A local stand-in for Amazon ECR, for users without an AWS account and for tests.

``Stack`` runs, on 127.0.0.1 only, an ECR/STS API emulator (moto, whose tokens
expire like ECR's), a registry that accepts those tokens, a Docker engine if
none answers, and optionally a ``FaultProxy`` that throttles or fails API calls
on request. ``python -m ecr_tasks.standin`` runs one until Ctrl-C.
"""

from __future__ import annotations

from .errors import StandinError
from .faults import FaultProxy
from .stack import DEFAULT_ACCOUNT, DEFAULT_REGION, Stack

__all__ = ["DEFAULT_ACCOUNT", "DEFAULT_REGION", "FaultProxy", "Stack", "StandinError"]
