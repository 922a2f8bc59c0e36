"""The package's shape: layers that only look down, a written-down public
surface, nothing process-wide changed, and no POSIX-only import at the top."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import ecr_tasks
from tests.conftest import REPO_ROOT

PACKAGE = REPO_ROOT / "ecr_tasks"

#: Imports of a package module made inside a function, each for a measured
#: cost the caller would otherwise pay on every start.
LAZY_IMPORTS = {
    # botocore (about 0.3 s) only when AWS must be asked
    ("token_source", "aws"),
    # urllib.request and http.client only when a registry is asked
    ("registry_checks", "registry_api"),
    ("doctor", "registry_api"),
    ("images", "registry_api"),
    # the rest of the package only on a cache miss (the helper's cached answer)
    ("token_source", "settings"),
    ("credential_helper", "token_source"),
    # the host parser and the error classes (re, collections: 10 ms) only to fail or to fetch
    ("credential_helper", "naming"),
    ("credential_helper", "errors"),
    # the refresher only when a token is past half of its life
    ("credential_helper", "refresher"),
    ("refresher", "token_source"),
    ("refresher", "cache"),
    # logging only when a client is built
    ("aws", "redaction"),
    # the host parser only for a token's account, never on the helper's cached path
    ("cache", "naming"),
}


def _imports(path: Path) -> tuple[set[str], set[str]]:
    """(top-level, in-function) imports of ecr_tasks modules in ``path``."""
    top: set[str] = set()
    inner: set[str] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    nested = {id(n) for f in functions for n in ast.walk(f) if n is not f}
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("ecr_tasks"):
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        modules = {
            n.split(".")[1]
            for n in names
            if n.startswith("ecr_tasks.") and (PACKAGE / f"{n.split('.')[1]}.py").exists()
        }
        (inner if id(node) in nested else top).update(modules)
    if "TYPE_CHECKING" in path.read_text(encoding="utf-8"):
        # Imports under ``if TYPE_CHECKING:`` never run.
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
                for sub in ast.walk(node):
                    if isinstance(sub, ast.ImportFrom) and sub.module:
                        top.discard(sub.module.split(".")[-1])
    return top - {path.stem}, inner - {path.stem}


def _graph() -> dict[str, tuple[set[str], set[str]]]:
    return {p.stem: _imports(p) for p in sorted(PACKAGE.glob("*.py")) if p.stem != "__init__"}


def test_no_module_imports_one_that_imports_it_back() -> None:
    graph = {name: top | inner for name, (top, inner) in _graph().items()}

    def reach(start: str) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            for nxt in graph.get(todo.pop(), ()):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    circles = sorted(name for name in graph if name in reach(name))
    assert circles == []


def test_imports_inside_functions_are_only_the_measured_lazy_ones() -> None:
    found = {(name, dep) for name, (_, inner) in _graph().items() for dep in inner}
    assert found <= LAZY_IMPORTS, sorted(found - LAZY_IMPORTS)


def test_the_public_names_resolve_and_nothing_else_is_offered() -> None:
    assert set(ecr_tasks.__all__) == {
        "__version__", "ns", "parse_registry_host", "registry_host", "RegistryHost",
        "EcrTasksError", "BadValue", "NotEcrHost", "ConfigError", "AwsError", "EngineError",
        "AuthRejected", "RepositoryNotFound", "Stack",
    }  # fmt: skip
    for name in ecr_tasks.__all__:
        assert getattr(ecr_tasks, name) is not None
    assert ecr_tasks.parse_registry_host("123456789012.dkr.ecr.eu-west-1.amazonaws.com").region == (
        "eu-west-1"
    )
    assert issubclass(ecr_tasks.NotEcrHost, ecr_tasks.EcrTasksError)
    with pytest.raises(AttributeError, match="no attribute 'Registries'"):
        ecr_tasks.Registries  # noqa: B018
    assert dir(ecr_tasks) == sorted(ecr_tasks.__all__)


def _run(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, text=True, capture_output=True, timeout=120,
        check=False, env={"PATH": "/usr/bin:/bin", "HOME": str(cwd)},
    )  # fmt: skip


def test_importing_the_package_loads_nothing_but_its_version(tmp_path: Path) -> None:
    done = _run(
        f"import sys; sys.path.insert(0, {str(REPO_ROOT)!r}); import ecr_tasks;"
        "print(sorted(m for m in sys.modules if m.startswith('ecr_tasks')))",
        tmp_path,
    )
    assert done.stdout.strip() == "['ecr_tasks', 'ecr_tasks._version']", done.stderr


# A Python without fcntl (Windows): an import hook refuses it, as that platform
# would. invoke is loaded first: on Windows it uses its own terminal code.
_NO_FCNTL = """
import sys
import invoke.main
class NoFcntl:
    def find_spec(self, name, path=None, target=None):
        if name == "fcntl":
            raise ModuleNotFoundError("No module named 'fcntl'", name=name)
sys.meta_path.insert(0, NoFcntl())
sys.modules.pop("fcntl", None)
sys.path.insert(0, {root!r})
sys.argv = ["inv"] + {args!r}
invoke.main.program.run()
"""


@pytest.mark.parametrize(
    "args",
    [
        ["--list"],
        ["uri", "--repo", "team/app", "--tag", "v1"],
        ["--dry", "push", "--repo", "team/app", "--tag", "v1"],
        ["--dry", "login"],
    ],
    ids=["list", "uri", "dry-push", "dry-login"],
)
def test_the_everyday_paths_work_without_fcntl(tmp_path: Path, args: list[str]) -> None:
    (tmp_path / "tasks.py").write_text((REPO_ROOT / "tasks.py").read_text())
    (tmp_path / "invoke.yaml").write_text(
        'ecr:\n  account: "123456789012"\n  region: eu-west-1\n'
    )
    done = _run(_NO_FCNTL.format(root=str(REPO_ROOT), args=args), tmp_path)
    assert done.returncode == 0, done.stderr
    host = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
    if args[0] == "uri":
        assert done.stdout == f"{host}/team/app:v1\n"
    elif args[0] == "--dry":
        assert f"docker login --username AWS --password-stdin {host}" in done.stdout
    else:
        assert "login" in done.stdout
