"""ecr-tasks: Invoke tasks for Amazon ECR (login, uri, tag, push, pull).

The public surface is what ``__all__`` names: the task collection ``ns``,
the registry host parser, the error classes and the local stand-in's
``Stack``. Every module of the package is internal and may change in any
release. Each name is loaded on first use, so importing the package costs
nothing: the credential helper, which runs once per pull, imports it too.
"""

from __future__ import annotations

from ecr_tasks._version import __version__

#: Public name -> the module that defines it.
_PUBLIC = {
    "ns": "ecr_tasks.tasks",
    "parse_registry_host": "ecr_tasks.naming",
    "registry_host": "ecr_tasks.naming",
    "RegistryHost": "ecr_tasks.naming",
    "EcrTasksError": "ecr_tasks.errors",
    "BadValue": "ecr_tasks.errors",
    "NotEcrHost": "ecr_tasks.errors",
    "ConfigError": "ecr_tasks.errors",
    "AwsError": "ecr_tasks.errors",
    "EngineError": "ecr_tasks.errors",
    "AuthRejected": "ecr_tasks.errors",
    "RepositoryNotFound": "ecr_tasks.errors",
    "Stack": "ecr_tasks.standin",
}

__all__ = ["__version__", *_PUBLIC]


def __getattr__(name: str) -> object:
    if name not in _PUBLIC:
        raise AttributeError(f"module 'ecr_tasks' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_PUBLIC[name]), name)


def __dir__() -> list[str]:
    return sorted(__all__)
