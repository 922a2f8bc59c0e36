"""A malformed invoke configuration file, reported in one line.

Invoke reads ``invoke.yaml`` while it loads the task collection, before any
task runs, so no task can catch what is wrong with it. ``ecr-tasks`` catches
it around ``Program.run``. Under ``inv`` only a :data:`sys.excepthook` could,
and a library must not change that for the program that imports it; there
invoke's own traceback stays.
"""

from __future__ import annotations

PREFIX = "ecr-tasks"


def describe(error: BaseException) -> str | None:
    """The one line for a configuration error, or None if ``error`` is not one."""
    from invoke.config import AmbiguousMergeError
    from invoke.util import yaml

    if isinstance(error, yaml.MarkedYAMLError) and error.problem_mark is not None:
        mark = error.problem_mark
        problem = " ".join(str(error.problem or error.context or "not valid YAML").split())
        return (
            f"{PREFIX}: invalid invoke configuration: {mark.name}: line {mark.line + 1}: "
            f"{problem}"
        )
    if isinstance(error, AmbiguousMergeError):
        return _merge_problem(error)
    if isinstance(error, yaml.YAMLError):
        detail = " ".join(str(error).split())
        return f"{PREFIX}: invalid invoke configuration: {detail}"
    return None


def _merge_problem(error: BaseException) -> str:
    """Which key holds a single value where a section belongs, or the reverse.

    Invoke's message names two Python types only; the keys come from the
    ``key`` of each ``merge_dicts`` call the error passed through.
    """
    keys: list[str] = []
    value: object = None
    tb = error.__traceback__
    while tb is not None:
        frame = tb.tb_frame
        if frame.f_code.co_name == "merge_dicts" and "key" in frame.f_locals:
            keys.append(str(frame.f_locals["key"]))
            value = frame.f_locals.get("value")
        tb = tb.tb_next
    if not keys:
        detail = " ".join(str(error).split())
        return f"{PREFIX}: invalid invoke configuration: {detail}"
    where = ".".join(keys)
    if isinstance(value, dict):
        return (
            f"{PREFIX}: invalid invoke configuration: {where} holds a section of settings, "
            "where a single value belongs"
        )
    return (
        f"{PREFIX}: invalid invoke configuration: {where} holds {value!r}, where a section "
        f"belongs ({keys[0]}: followed by indented key: value lines)"
    )
