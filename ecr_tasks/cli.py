"""The ``ecr-tasks`` console script: invoke's ``Program`` over our collection.

It serves people who install the package (``pipx install ecr-tasks``) and
want ``ecr-tasks login push --tag v1`` without keeping a ``tasks.py``. The
tasks, flags and settings are the very ones ``inv`` runs: invoke.yaml and
``INVOKE_ECR_*`` still apply, because the configuration prefix stays "invoke".
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from invoke import Program
from invoke.config import AmbiguousMergeError
from invoke.util import yaml

from ecr_tasks import configfile
from ecr_tasks._version import __version__
from ecr_tasks.tasks import ns

NAME = "ecr-tasks"
# The file names invoke itself accepts for project configuration.
_PROJECT_FILES = ("invoke.yaml", "invoke.yml", "invoke.json", "invoke.py")


def project_dir(start: Path) -> Path | None:
    """The nearest directory, from ``start`` upwards, holding an invoke config file."""
    for directory in (start, *start.parents):
        if any((directory / name).is_file() for name in _PROJECT_FILES):
            return directory
    return None


class EcrTasksProgram(Program):
    """A ``Program`` with a bundled collection that still reads project config.

    With a bundled namespace, invoke never searches for ``tasks.py`` and so
    never loads the project's ``invoke.yaml`` that sits next to it. ``inv``
    users keep that file beside their ``tasks.py``; here the nearest one
    above the working directory plays the same part, as ``inv`` would find
    a ``tasks.py`` there.
    """

    def parse_collection(self) -> None:
        super().parse_collection()
        found = project_dir(Path.cwd())
        if found is not None:
            self.config.set_project_location(str(found))
            self.config.load_project()


program = EcrTasksProgram(
    name=NAME, binary=NAME, binary_names=[NAME], version=__version__, namespace=ns
)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the console script; ``argv`` defaults to ``sys.argv``."""
    try:
        program.run(argv)
    except (AmbiguousMergeError, yaml.YAMLError) as error:
        # A malformed invoke.yaml (``ecr: 5``, a map where a value belongs, bad
        # YAML) fails inside invoke's config loading, before any task runs.
        print(configfile.describe(error), file=sys.stderr)
        sys.exit(1)
    except BrokenPipeError:
        # The reader left early (``ecr-tasks --list | head``): not our error,
        # and Python's shutdown flush must not report it either.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)


if __name__ == "__main__":
    main()
