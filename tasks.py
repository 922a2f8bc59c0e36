"""Invoke tasks for Amazon ECR: copy this file into your repository.

    pip install path/to/ecr-tasks    # a clone; once on PyPI: pip install ecr-tasks
    inv login push --tag v1

Settings live under ``ecr:`` in invoke.yaml or in INVOKE_ECR_* variables;
see https://ecr-tasks.readthedocs.io/ for the full reference.
"""

from ecr_tasks import ns

__all__ = ["ns"]
