"""Tests on the built documentation site, in English and in Simplified Chinese.

The site is built once per session (see ``tests/docs_site.py``).  To check a
site that is already built, point ``ECR_DOCS_SITE`` at its ``html`` directory
(the one holding ``en/`` and ``zh_CN/``), e.g.
``ECR_DOCS_SITE=docs/_build/html pytest -m docs``.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
import os
import pkgutil
import re
import subprocess
import sys
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar

import pytest

from tests.docs_site import BUILD_ENV_CANARY, built_site, require_sphinx

pytestmark = pytest.mark.docs

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
CATALOGS = DOCS / "locale" / "zh_CN" / "LC_MESSAGES"
LANGUAGES = ("en", "zh_CN")
PAGES = sorted(path.stem for path in DOCS.glob("*.rst"))
# Pages Sphinx makes on its own, which also need their language link.
GENERATED_PAGES = ("genindex", "search", "py-modindex")

COMPARISON_ROWS = {
    "en": [
        "Login",
        "Repository name",
        "Push",
        "Pull",
        "Tag immutability",
        "Tags",
        "Delete a tag",
        "Images from Docker Hub",
        "Token lifetime",
        "Public images",
        "Pull rate limits",
        "China regions",
        "Where the login is kept",
        "Credential helper",
        "GitHub Actions",
    ],
    "zh_CN": [
        "登录",
        "存储库名称",
        "推送",
        "拉取",
        "标签不可变性",
        "标签",
        "删除标签",
        "来自 Docker Hub 的镜像",
        "令牌有效期",
        "公共镜像",
        "拉取频率限制",
        "中国区域",
        "登录信息保存在哪里",
        "凭证助手",
        "GitHub Actions",
    ],
}
COMPARISON_COLUMNS = ["Docker Hub", "Amazon ECR", "ecr-tasks"]


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The built site's html directory, with en/ and zh_CN/ inside."""
    return built_site(tmp_path_factory)


@pytest.fixture(scope="session")
def fresh_messages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, set[str]]:
    """The English messages of every page as the sources say today (gettext build)."""
    require_sphinx()
    out = tmp_path_factory.mktemp("gettext")
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-q", "-b", "gettext", str(DOCS), str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"the gettext build failed:\n{result.stdout}\n{result.stderr}")
    from babel.messages.pofile import read_po

    messages = {}
    for pot in out.glob("*.pot"):
        with pot.open("rb") as handle:
            messages[pot.stem] = {m.id for m in read_po(handle) if m.id}
    return messages


def _catalog(page: str):
    from babel.messages.pofile import read_po

    with (CATALOGS / f"{page}.po").open("rb") as handle:
        return read_po(handle)


class _Element:
    def __init__(self, tag: str, attrs: dict[str, str], parent: _Element | None) -> None:
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[_Element | str] = []

    @property
    def classes(self) -> list[str]:
        return (self.attrs.get("class") or "").split()

    def text(self, skip: tuple[str, ...] = ()) -> str:
        parts = [
            c if isinstance(c, str) else c.text(skip)
            for c in self.children
            if isinstance(c, str) or c.tag not in skip
        ]
        return " ".join("".join(parts).split())

    def find_all(self, tag: str, cls: str | None = None) -> list[_Element]:
        found = []
        for child in self.children:
            if isinstance(child, _Element):
                if child.tag == tag and (cls is None or cls in child.classes):
                    found.append(child)
                found.extend(child.find_all(tag, cls))
        return found


class _TreeBuilder(HTMLParser):
    VOID: ClassVar[set[str]] = {"meta", "link", "img", "br", "hr", "input", "col", "wbr", "source"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = _Element("#document", {}, None)
        self.current = self.root

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = _Element(tag, {k: v or "" for k, v in attrs}, self.current)
        self.current.children.append(element)
        if tag not in self.VOID:
            self.current = element

    def handle_endtag(self, tag: str) -> None:
        node = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data: str) -> None:
        self.current.children.append(data)


def parse(path: Path) -> _Element:
    builder = _TreeBuilder()
    builder.feed(path.read_text(encoding="utf-8"))
    return builder.root


def main_text(path: Path, skip: tuple[str, ...] = ()) -> str:
    """The text of the page's article, without the navigation around it."""
    (main,) = [div for div in parse(path).find_all("div") if div.attrs.get("role") == "main"]
    return main.text(skip)


def _collection():
    import ecr_tasks

    return ecr_tasks.ns


def _arguments(task) -> list:
    saved = dict(task.help)  # invoke moves help strings out of the task; keep them
    try:
        return task.get_arguments()
    finally:
        task.help = saved


def _docstring_messages(task) -> list[str]:
    """A task's docstring as the reference shows it: one message per paragraph."""
    blocks = re.split(r"\n\s*\n", inspect.cleandoc(task.body.__doc__ or ""))
    return [text for text in (" ".join(block.split()) for block in blocks) if text]


def _help_message(arg) -> str:
    """A flag's help string as the reference shows it (lines joined)."""
    return " ".join((arg.help or "").split())


def _shown(message: str) -> str:
    """The text a reStructuredText message renders as: no code-span backticks or
    escaped spaces, whitespace as ``_Element.text`` normalises it."""
    return " ".join(re.sub(r"``?", "", message.replace("\\ ", "")).split())


def _flag(arg) -> str:
    long_name = max(arg.names, key=len)
    return f"--no-{long_name}" if arg.kind is bool and arg.default is True else f"--{long_name}"


def _task_sections(site: Path, language: str) -> dict:
    page = parse(site / language / "reference.html")
    sections = {s.attrs.get("id"): s for s in page.find_all("section")}
    found = {}
    for name in _collection().task_names:
        section = sections.get(f"task-{name.replace('.', '-')}")
        assert section is not None, f"{language}: no section for task {name}"
        found[name] = section
    return found


# -- every page, both languages ------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("page", PAGES)
def test_every_page_exists_in_both_languages(site: Path, language: str, page: str) -> None:
    path = site / language / f"{page}.html"
    assert path.is_file(), f"{path} was not built"
    html = parse(path).find_all("html")[0]
    assert html.attrs.get("lang", "").replace("_", "-") == language.replace("_", "-")


def test_chinese_pages_are_in_chinese(site: Path) -> None:
    for page in PAGES:
        text = main_text(site / "zh_CN" / f"{page}.html")
        han = sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff")
        assert han > 20, f"zh_CN/{page}.html has hardly any Chinese text"


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_markup_leaks_into_the_text(site: Path, language: str) -> None:
    """reStructuredText that did not parse (e.g. ``code`` glued to a Chinese
    character or to a full-width bracket) shows up as raw markup."""
    for page in PAGES:
        text = main_text(site / language / f"{page}.html", skip=("pre",))
        for leftover in ("``", ":doc:`", ":ref:`", "`_"):
            assert leftover not in text, f"{language}/{page}.html shows raw {leftover!r}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_language_links_resolve_to_the_same_page(site: Path, language: str) -> None:
    other = next(lang for lang in LANGUAGES if lang != language)
    for page in (*PAGES, *GENERATED_PAGES):
        path = site / language / f"{page}.html"
        if not path.exists():
            continue
        links = parse(path).find_all("a", "ecr-language-link")
        assert len(links) == 1, f"{path}: expected one language link, found {len(links)}"
        href = links[0].attrs["href"]
        assert href == f"../{other}/{page}.html"
        assert (path.parent / href).resolve().is_file(), f"{path}: {href} does not exist"


def test_language_link_is_near_the_top(site: Path) -> None:
    for language in LANGUAGES:
        html = (site / language / "guide.html").read_text(encoding="utf-8")
        assert html.index("ecr-language-link") < html.index("<h1"), (
            "the link must precede the title"
        )


# -- the Chinese catalogs --------------------------------------------------------


@pytest.mark.parametrize("page", PAGES)
def test_catalog_has_no_untranslated_or_fuzzy_entries(page: str) -> None:
    require_sphinx()
    catalog = _catalog(page)
    untranslated = [m.id for m in catalog if m.id and not m.string]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert not untranslated, f"{page}.po: untranslated: {untranslated[:3]}"
    assert not fuzzy, f"{page}.po: fuzzy: {fuzzy[:3]}"


@pytest.mark.parametrize("page", PAGES)
def test_catalog_covers_the_current_english_text(page: str, fresh_messages: dict) -> None:
    """Every message of today's text has a translation, code-derived text included:
    the reference page's messages hold every task docstring and help string
    (see the next test), so changing one in the code without updating
    reference.po fails here."""
    translated = {m.id for m in _catalog(page) if m.id and m.string and not m.fuzzy}
    missing = sorted(fresh_messages.get(page, set()) - translated)
    assert not missing, (
        f"{page}.po lacks {len(missing)} message(s) of the current text, e.g. {missing[0][:80]!r}:"
        " run `python docs/build.py --update-catalogs` and translate them"
    )


def test_reference_messages_hold_the_text_from_the_code(fresh_messages: dict) -> None:
    """The reference extension hands task docstrings and help strings to gettext.

    Without this the catalog check above would pass vacuously for them."""
    messages = fresh_messages.get("reference", set())
    collection = _collection()
    for name in collection.task_names:
        task = collection[name]
        for paragraph in _docstring_messages(task):
            assert paragraph in messages, f"docstring of {name} not extracted: {paragraph[:60]!r}"
        for arg in _arguments(task):
            if arg.help:
                assert _help_message(arg) in messages, f"help of {name} {_flag(arg)} not extracted"


def _extension():
    """The docs' own Sphinx extension, ``docs/_ext/invoke_reference.py``."""
    sys.path.insert(0, str(DOCS / "_ext"))
    try:
        return importlib.import_module("invoke_reference")
    finally:
        sys.path.remove(str(DOCS / "_ext"))


def test_reference_labels_are_translated() -> None:
    """The labels the reference extension writes come from the project's sphinx.po."""
    require_sphinx()
    labels = _extension().LABELS
    catalog = {m.id: m for m in _catalog("sphinx") if m.id}
    for label in labels:
        assert label in catalog and catalog[label].string, f"sphinx.po: no translation of {label!r}"
        assert not catalog[label].fuzzy


# -- the comparison table ----------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_comparison_table_has_its_rows(site: Path, language: str) -> None:
    tables = parse(site / language / "comparison.html").find_all("table", "ecr-comparison")
    assert len(tables) == 1
    rows = tables[0].find_all("tr")
    header = [cell.text() for cell in rows[0].find_all("th")]
    assert header[1:] == COMPARISON_COLUMNS
    stubs = [row.find_all("th")[0].text() for row in rows[1:]]
    assert stubs == COMPARISON_ROWS[language]
    for row in rows[1:]:
        cells = row.find_all("td")
        assert len(cells) == 3 and all(cell.text() for cell in cells)


def test_comparison_table_keeps_the_commands(site: Path) -> None:
    for language in LANGUAGES:
        text = (
            parse(site / language / "comparison.html").find_all("table", "ecr-comparison")[0].text()
        )
        for literal in (
            "<aws-account-id>.dkr.ecr.<aws-region>.amazonaws.com/<repo-name>",
            "docker push <dockerhub-username>/<repo-name>:<tag>",
            "inv login --public",
            "public.ecr.aws/<alias>/<repo-name>",
        ):
            assert literal in text, f"{language}: {literal!r} missing from the table"


# -- the task reference and the settings ---------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_reference_lists_every_task_and_flag(site: Path, language: str) -> None:
    collection = _collection()
    assert collection.task_names, "the collection has no tasks"
    for name, section in _task_sections(site, language).items():
        text = section.text()
        task = collection[name]
        assert f"inv {name}" in text, f"{language}: no usage or example for {name}"
        for arg in _arguments(task):
            assert _flag(arg) in text, f"{language}: {name} {_flag(arg)} missing"


def test_english_reference_shows_the_code_text(site: Path) -> None:
    collection = _collection()
    for name, section in _task_sections(site, "en").items():
        text = section.text()
        task = collection[name]
        for paragraph in _docstring_messages(task):
            assert unescape(_shown(paragraph)) in text, f"en: docstring of {name}"
        for arg in _arguments(task):
            if arg.help:
                assert _shown(_help_message(arg)) in text, f"en: help of {name} {_flag(arg)}"


def test_chinese_reference_shows_translated_descriptions_and_help(site: Path) -> None:
    """zh_CN: each task's description and its flags' help come from reference.po,
    not from the English in the code."""
    collection = _collection()
    catalog = {m.id: m.string for m in _catalog("reference") if m.id and not m.fuzzy}
    for name, section in _task_sections(site, "zh_CN").items():
        text = section.text()
        task = collection[name]
        for paragraph in _docstring_messages(task):
            chinese = catalog.get(paragraph)
            assert chinese, f"reference.po: no translation of the docstring of {name}"
            assert _shown(chinese) in text, f"zh_CN: {name} does not show {chinese[:30]!r}"
            assert _shown(paragraph) not in text, f"zh_CN: {name} shows its docstring in English"
        translated_flags = 0
        for arg in _arguments(task):
            if not arg.help:
                continue
            english, chinese = _help_message(arg), catalog.get(_help_message(arg))
            assert chinese, f"reference.po: no translation of the help of {name} {_flag(arg)}"
            assert _shown(chinese) in text, f"zh_CN: {name} {_flag(arg)} lacks {chinese!r}"
            assert _shown(english) not in text, f"zh_CN: {name} {_flag(arg)} help is in English"
            translated_flags += 1
        assert translated_flags or not _arguments(task), f"zh_CN: {name} has no translated help"


@pytest.mark.parametrize("language", LANGUAGES)
def test_configuration_lists_every_setting(site: Path, language: str) -> None:
    settings = _collection().configuration()["ecr"]
    text = main_text(site / language / "configuration.html")
    for key in settings:
        assert f"ecr.{key}" in text, f"{language}: ecr.{key} missing"
        assert f"INVOKE_ECR_{key.upper()}" in text, f"{language}: INVOKE_ECR_{key.upper()} missing"


@pytest.mark.parametrize("language", LANGUAGES)
def test_api_page_documents_the_public_names_and_nothing_else(site: Path, language: str) -> None:
    """The API page is the public surface: each name of ``ecr_tasks.__all__``,
    documented under ``ecr_tasks`` itself, and no module of the package, since
    every module is internal."""
    import ecr_tasks

    page = (site / language / "api.html").read_text(encoding="utf-8")
    ids = set(re.findall(r'id="([^"]+)"', page))
    for name in ecr_tasks.__all__:
        assert f"ecr_tasks.{name}" in ids, f"{language}: ecr_tasks.{name} is not on api.html"
    # Objects and their members: ecr_tasks.Stack, ecr_tasks.Stack.stop, ...
    documented = {i.split(".")[1] for i in ids if i.startswith("ecr_tasks.")}
    assert documented == set(ecr_tasks.__all__), (
        f"{language}: api.html documents {sorted(documented - set(ecr_tasks.__all__))}"
    )
    assert {i for i in ids if i.startswith("module-")} == {"module-ecr_tasks"}
    for info in pkgutil.iter_modules(ecr_tasks.__path__):
        assert info.name not in documented, f"{language}: api.html documents ecr_tasks.{info.name}"
    for internal in ("ecr_tasks.cache", "ecr_tasks.login", "ecr_tasks.settings"):
        assert internal not in page, f"{language}: api.html names {internal}"
    # The module index lists the package alone.
    index = parse(site / language / "py-modindex.html")
    listed = {code.text() for code in index.find_all("code")}
    assert listed == {"ecr_tasks"}, f"{language}: py-modindex lists {sorted(listed)}"


def test_read_the_docs_requirements_match_the_docs_group() -> None:
    """docs/requirements.txt (for Read the Docs) repeats pyproject's docs group."""
    tomllib = pytest.importorskip("tomllib")
    with (ROOT / "pyproject.toml").open("rb") as handle:
        group = tomllib.load(handle)["dependency-groups"]["docs"]
    lines = (DOCS / "requirements.txt").read_text(encoding="utf-8").splitlines()
    listed = [line.strip() for line in lines if line.strip() and not line.startswith("#")]

    def normal(requirement: str) -> str:
        return re.sub(r"\s+", "", requirement).lower().replace("_", "-")

    assert sorted(map(normal, listed)) == sorted(map(normal, group))


def _string_literals(path: Path) -> list[str]:
    """Every string literal in a module; an f-string's fields become NUL."""
    literals = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            literals.append(node.value)
        elif isinstance(node, ast.JoinedStr):
            parts = [v.value if isinstance(v, ast.Constant) else "\0" for v in node.values]
            literals.append("".join(parts))
    return literals


def test_troubleshooting_quotes_messages_the_code_prints() -> None:
    """Each ``ecr-tasks: ...`` line on the page must still be printed by the code."""
    literals = [
        text for path in (ROOT / "ecr_tasks").rglob("*.py") for text in _string_literals(path)
    ]
    page = (DOCS / "troubleshooting.rst").read_text(encoding="utf-8")
    prefix = "ecr-tasks: "
    quoted = [
        line.strip()[len(prefix) :] for line in page.splitlines() if line.strip().startswith(prefix)
    ]
    assert len(quoted) >= 10
    # A line may also quote a message with its fields filled in, as the user
    # sees it ("no AWS region for login: ..."): each field then stands for one
    # word, and the literal must have text of its own.
    patterns = [
        re.compile(r"\S+".join(map(re.escape, text.split("\0"))))
        for text in literals
        if "\0" in text and len(text) - text.count("\0") >= 20
    ]
    for message in quoted:
        # "<x>" stands for a value; the code adds " in <region>" as one piece.
        chunks = [chunk.strip(" '(),") for chunk in re.split(r"(?: in)? <[^>]*>|<[^>]*>", message)]
        chunks = [chunk for chunk in chunks if len(chunk) >= 6]
        assert chunks, message
        assert any(all(chunk in text for chunk in chunks) for text in literals) or any(
            pattern.fullmatch(message) for pattern in patterns
        ), f"troubleshooting.rst quotes {message!r}, which the code no longer prints"


# -- errors from docker and AWS: the raw messages, word for word ---------------------

#: The messages people paste into a search engine (issue 21), each as the engine
#: or AWS prints it; the page must hold each one literally, in both languages.
RAW_MESSAGES = (
    "no basic auth credentials",
    "denied: Your authorization token has expired. Reauthenticate and try again.",
    "manifests/<tag>: 403 Forbidden",
    "Error: Cannot perform an interactive login from a non TTY device",
    "Error saving credentials: error storing credentials - err: ",
    "out: `The stub received bad data.`",
    'exec: "docker-credential-desktop": executable file not found in $PATH',
    'exec: "docker-credential-desktop.exe": executable file not found in $PATH',
    "name unknown: The repository with name '<repo>' does not exist in the registry with id",
    "tag invalid: The image tag '<tag>' already exists in the '<repo>' repository and cannot be"
    " overwritten because the repository is immutable.",
    "denied: User: arn:aws:iam::<account>:user/<name> is not authorized to perform:"
    " ecr:InitiateLayerUpload on resource: ",
    "An error occurred (ThrottlingException) when calling the GetAuthorizationToken operation",
    "Rate exceeded",
    "toomanyrequests: You have reached your pull rate limit.",
    "x509: certificate signed by unknown authority",
)


@pytest.mark.parametrize("language", LANGUAGES)
def test_errors_page_quotes_each_raw_message(site: Path, language: str) -> None:
    page = parse(site / language / "errors.html")
    quoted = "\n".join(pre.text() for pre in page.find_all("pre"))
    for message in RAW_MESSAGES:
        assert message in quoted, f"{language}/errors.html does not quote {message!r}"
    toctree = parse(site / language / "index.html").find_all("a")
    assert any(a.attrs.get("href") == "errors.html" for a in toctree), "not in the contents"


def test_errors_page_quotes_doctor_lines_the_code_prints() -> None:
    """Each doctor line quoted on the page (label, detail, hint) is one that
    ecr_tasks/doctor.py can still print, ``<...>`` standing for a value."""
    literals = _string_literals(ROOT / "ecr_tasks" / "doctor.py")
    # A value the code fills in is quoted as <...>, or as a flag and its <value>.
    value = r"(?:<[^>]*>|--[a-z-]+| )*"
    patterns = [re.compile(value.join(map(re.escape, text.split("\0")))) for text in literals]
    page = (DOCS / "errors.rst").read_text(encoding="utf-8")
    quoted = [line.strip() for line in page.splitlines() if line.strip()[:2] in ("✓ ", "✗ ")]
    assert len(quoted) >= 4
    for line in quoted:
        label, detail, hint = re.fullmatch(
            r"(\S.*?) {2,}(.*?)  (?:hint|warning): (.*)", line[2:]
        ).groups()
        for part in (label, detail, hint):
            assert any(p.fullmatch(part) for p in patterns), (
                f"errors.rst quotes doctor saying {part!r}, which the code no longer prints"
            )


# -- what the build must not publish, and what every page carries -------------------


def _html_files(site: Path) -> list[Path]:
    return sorted(path for language in LANGUAGES for path in (site / language).rglob("*.html"))


def test_no_page_shows_the_build_machines_environment(site: Path) -> None:
    """Defaults such as ``environ=os.environ`` are shown as written in the source,
    not as the environment of the machine that built the site."""
    pages = _html_files(site)
    assert len(pages) > len(PAGES)
    built_here = not os.environ.get("ECR_DOCS_SITE")
    for path in pages:
        html = path.read_text(encoding="utf-8")
        assert "environ({" not in html, f"{path} prints an os.environ mapping"
        if built_here:
            assert BUILD_ENV_CANARY not in html, f"{path} shows a variable of the build"
    api = (site / "en" / "api.html").read_text(encoding="utf-8")
    assert "region=DEFAULT_REGION" in unescape(re.sub(r"<[^>]+>", "", api)), (
        "no default shown as written"
    )


_SIG_KEYWORDS = re.compile(
    r"^(?:(?:class|exception|property|async|classmethod|static|abstract)\s+)+"
)


def _signature_text(element: _Element) -> str:
    """A signature as a reader sees it: no permalink icon, a space after ``class``."""
    parts = []
    for child in element.children:
        if isinstance(child, str):
            parts.append(child)
        elif "headerlink" not in child.classes:
            spacer = " " if "property" in child.classes else ""
            parts.append(_signature_text(child) + spacer)
    return " ".join("".join(parts).split())


def _signature_as_python(text: str) -> str:
    """A signature line as a Python statement: ``def f(...)`` or ``x: T = v``."""
    text = _SIG_KEYWORDS.sub("", text.strip())
    call = re.fullmatch(r"[\w.]+(\(.*\))(\s*->.*)?", text, re.S)
    if call:
        return f"def f{call.group(1)}{call.group(2) or ''}: pass"
    return re.sub(r"^[\w.]+", "x", text)


def test_every_api_signature_reads_as_python(site: Path) -> None:
    """No signature part is lost or moved (``Aws(=profileNone)`` was one)."""
    import ecr_tasks

    for language in LANGUAGES:
        page = parse(site / language / "api.html")
        signatures = [_signature_text(dt) for dt in page.find_all("dt", "sig")]
        assert len(signatures) > len(ecr_tasks.__all__), f"{language}: only {len(signatures)}"
        for signature in signatures:
            statement = _signature_as_python(signature)
            try:
                ast.parse(statement)
            except SyntaxError:
                pytest.fail(f"{language}/api.html: {signature!r} is not Python")
        joined = "\n".join(signatures)
        assert "ecr_tasks.parse_registry_host(host)" in joined
        assert "ecr_tasks.registry_host(account, region, *, fips=False, dualstack=False)" in joined
        assert "ecr_tasks.Stack(workdir=None, *, start_engine='auto'," in joined


def test_dataclass_factories_read_as_calls() -> None:
    """Python writes a field's ``default_factory`` as ``<factory>``; the API page
    shows a call instead (``regions=list()``), so the signature stays Python."""
    require_sphinx()

    @dataclasses.dataclass
    class Example:
        name: str
        regions: list[str] = dataclasses.field(default_factory=list)

    spell = _extension().spell_out_factories
    signature = "(name, regions=<factory>)"
    result = spell(None, "class", "Example", Example, None, signature, None)
    assert result == ("(name, regions=list())", None)
    assert spell(None, "function", "f", len, None, "(obj)", None) is None


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_page_shows_the_version_and_a_language_switch_outside_the_hidden_aside(
    site: Path, language: str
) -> None:
    from ecr_tasks import __version__

    for page in (*PAGES, *GENERATED_PAGES):
        path = site / language / f"{page}.html"
        if not path.exists():
            continue
        tree = parse(path)
        versions = tree.find_all("span", "ecr-version")
        assert [v.text() for v in versions] == [f"v{__version__}"], f"{path}: no version"
        # The theme hides "wy-breadcrumbs-aside" under 480 px.
        for aside in tree.find_all("li", "wy-breadcrumbs-aside"):
            assert not aside.find_all("a", "ecr-language-link"), f"{path}: switch hidden on phones"
        assert tree.find_all("li", "ecr-page-aside"), f"{path}: no header aside"


@pytest.mark.parametrize("language", LANGUAGES)
def test_hreflang_links_are_absolute_and_name_every_language(site: Path, language: str) -> None:
    for page in PAGES:
        links = [
            link.attrs
            for link in parse(site / language / f"{page}.html").find_all("link")
            if link.attrs.get("rel") in ("alternate", "canonical")
        ]
        alternates = {a["hreflang"]: a["href"] for a in links if a.get("rel") == "alternate"}
        assert set(alternates) == {"en", "zh-Hans"}, f"{language}/{page}: {alternates}"
        for href in alternates.values():
            assert href.startswith("https://") and href.endswith(f"/{page}.html"), href
        (canonical,) = [a["href"] for a in links if a.get("rel") == "canonical"]
        own = "en" if language == "en" else "zh-Hans"
        assert canonical == alternates[own]


def test_code_blocks_have_copy_buttons(site: Path) -> None:
    for language in LANGUAGES:
        html = (site / language / "recipes.html").read_text(encoding="utf-8")
        assert "clipboard.min.js" in html and "copybutton.js" in html


def test_chinese_search_page_loads_an_existing_stemmer(site: Path) -> None:
    """Sphinx 9.0 named a ChineseStemmer that does not exist (sphinx#14229)."""
    script = (site / "zh_CN" / "_static" / "language_data.js").read_text(encoding="utf-8")
    assigned = re.search(r"window\.Stemmer = (\w+);", script)
    assert assigned, "language_data.js sets no stemmer"
    assert f"var {assigned.group(1)}=" in script or f"var {assigned.group(1)} =" in script


def test_chinese_search_index_holds_chinese_words(site: Path) -> None:
    """jieba splits the Chinese text into words; without it the index holds none."""
    import json

    script = (site / "zh_CN" / "searchindex.js").read_text(encoding="utf-8")
    index = json.loads(script[script.index("(") + 1 : script.rindex(")")])
    for word in ("登录", "推送", "镜像", "令牌"):
        assert word in index["terms"], f"zh_CN search index lacks {word}"


# -- the reference: required flags and defaults that are values ------------------------


def test_usage_lines_show_required_flags_without_brackets(site: Path) -> None:
    for language in LANGUAGES:
        sections = _task_sections(site, language)
        for name in ("push", "tag"):
            (usage,) = sections[name].find_all("div", "ecr-usage")
            text = usage.text()
            assert f"inv {name} --tag TAG..." in text, text
            assert "[--tag" not in text, text


@pytest.mark.parametrize("language", LANGUAGES)
def test_default_column_gives_the_value_a_flag_falls_back_to(site: Path, language: str) -> None:
    sections = _task_sections(site, language)
    expected = {
        ("pull", "--tag"): "latest",
        ("push", "--kms-key"): "AES256",
        ("push", "--image"): "<repo>:<first tag>",
        ("tag", "--image"): "<repo>:<first tag>",
        ("push", "--tag"): "required" if language == "en" else "必填",
    }
    for (name, flag), value in expected.items():
        rows = sections[name].find_all("tr")
        (row,) = [
            r for r in rows if r.find_all("td") and r.find_all("td")[0].text().startswith(flag)
        ]
        default = row.find_all("td")[2].text()
        assert default == value, f"{language}: {name} {flag} default is {default!r}"


# -- troubleshooting: every message the code raises ------------------------------------


def _error_classes() -> set[str]:
    from ecr_tasks import errors

    found, todo = set(), [errors.EcrTasksError]
    while todo:
        cls = todo.pop()
        if cls.__module__ == errors.__name__:
            found.add(cls.__name__)
        todo.extend(cls.__subclasses__())
    # BadValue's text is one shape, "invalid <what> '<value>': <rule>", checked below.
    return found - {"BadValue"}


def _user_error_messages() -> list[tuple[str, str]]:
    """(where, text) of every user error ``ecr_tasks`` builds from a literal;
    the values an f-string fills in become NUL."""
    classes = _error_classes()
    messages = []
    for path in sorted((ROOT / "ecr_tasks").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in classes
                and node.args
            ):
                continue
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                text = first.value
            elif isinstance(first, ast.JoinedStr):
                text = "".join(
                    v.value if isinstance(v, ast.Constant) else "\0" for v in first.values
                )
            else:
                continue
            messages.append((f"{path.relative_to(ROOT)}:{node.lineno}", text))
    return messages


def _fixed_parts(message: str) -> list[str]:
    parts = [part.strip(" '(),") for part in message.split("\0")]
    return [part for part in parts if len(part) >= 6]


def _innermost_section_quoting(page: _Element, parts: list[str]) -> _Element | None:
    best = None
    for section in page.find_all("section"):
        for pre in section.find_all("pre"):
            lines = pre.text().split("ecr-tasks: ")
            quoted = any(all(part in line for part in parts) for line in lines)
            if quoted and (best is None or len(section.text()) < len(best.text())):
                best = section
    return best


def test_every_user_error_the_code_raises_is_on_the_troubleshooting_page(site: Path) -> None:
    messages = _user_error_messages()
    assert len(messages) >= 30, f"found only {len(messages)} error messages in the code"
    pages = {language: parse(site / language / "troubleshooting.html") for language in LANGUAGES}
    for where, message in messages:
        parts = _fixed_parts(message)
        assert parts, f"{where}: {message!r} has no fixed text to look for"
        for language, page in pages.items():
            section = _innermost_section_quoting(page, parts)
            assert section is not None, (
                f"{language}/troubleshooting.html has no entry for {message!r} ({where})"
            )
            if language == "zh_CN":
                explanation = section.text(skip=("pre",))
                han = sum(1 for ch in explanation if "\u4e00" <= ch <= "\u9fff")
                assert han > 20, f"zh_CN: the entry for {message!r} is not explained in Chinese"
    for language, page in pages.items():
        assert _innermost_section_quoting(page, ["invalid", ": "]) is not None, language


# -- Chinese wording -------------------------------------------------------------------


def test_chinese_pages_use_aws_terms() -> None:
    """存储库 for an ECR repository (as AWS's Chinese documentation says), profile
    kept as "profile", 本地模拟环境 for the local stand-in."""
    require_sphinx()
    for page in PAGES:
        for message in _catalog(page):
            if not message.id or not isinstance(message.string, str):
                continue
            profile_as_config_file = "配置文件\N{FULLWIDTH LEFT PARENTHESIS}profile"
            for wrong in ("仓库", "替身", profile_as_config_file, "公开镜像"):
                assert wrong not in message.string, f"{page}.po: {wrong} in {message.string!r}"


# -- claims about the code that the code keeps true ------------------------------------


def _readme_synopses() -> dict[str, str]:
    """Each task's synopsis line in the README's "The tasks" list: a line of
    code spans only, such as ``inv pull [...]`` or ``inv pull --image REF``."""
    text = (ROOT / "README.rst").read_text(encoding="utf-8")
    found: dict[str, str] = {}
    for line in text.splitlines():
        match = re.match(r"``inv (\w+)(?: |``)", line)
        if match and line.rstrip().endswith("``"):
            found[match.group(1)] = found.get(match.group(1), "") + line
    return found


def test_readme_synopsis_of_each_task_names_all_its_flags() -> None:
    """The README lists every flag of each task, but for the three every task
    takes, which it names once."""
    common = {"--account", "--region", "--profile"}
    readme = (ROOT / "README.rst").read_text(encoding="utf-8")
    assert "Every task also takes ``--account``, ``--region`` and ``--profile``." in readme
    synopses = _readme_synopses()
    collection = _collection()
    for name in collection.task_names:
        assert name in synopses, f"README has no synopsis for {name}"
        shown = set(re.findall(r"--[a-z][a-z-]*", synopses[name]))
        flags = {_flag(arg) for arg in _arguments(collection[name])}
        assert shown <= flags, f"README: {name} has no {sorted(shown - flags)}"
        assert flags - common <= shown, f"README: {name} lacks {sorted(flags - common - shown)}"


def test_check_dist_lists_every_task() -> None:
    import runpy

    listed = runpy.run_path(str(ROOT / "scripts" / "check_dist.py"))["TASKS"]
    assert sorted(listed) == sorted(_collection().task_names)


def _install_commands() -> list[tuple[str, str]]:
    """(where, command) of every ``pip install`` or ``pipx install`` line, its
    comment left out, in the pages, the README and the copied tasks.py."""
    sources = [*sorted(DOCS.glob("*.rst")), ROOT / "README.rst", ROOT / "tasks.py"]
    found = []
    for path in sources:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            command = re.sub(r"^\s*(?:\$ |- run: |- )?", "", line).split(" #")[0].strip()
            if re.match(r"pipx? install ", command):
                found.append((f"{path.relative_to(ROOT)}:{number}", command))
    return found


def test_install_lines_work_before_the_package_is_on_pypi() -> None:
    """ecr-tasks is not on PyPI yet: a command that asks PyPI for it fails.
    The published form is kept in comments and sentences for that day."""
    import shlex

    commands = _install_commands()
    assert len(commands) >= 6, commands
    for where, command in commands:
        words = shlex.split(command)
        named = [w for w in words[2:] if re.fullmatch(r"ecr-tasks(\[[\w,]+\])?", w)]
        assert not named, f"{where}: {command!r} asks PyPI for {named[0]}"


def test_guide_gives_podmans_auth_file_order_as_the_code_reads_it(site: Path) -> None:
    from ecr_tasks import authfile

    variables = {
        "REGISTRY_AUTH_FILE": "/a/auth.json",
        "DOCKER_CONFIG": "/b",
        "XDG_RUNTIME_DIR": "/c",
    }
    order = []
    remaining = dict(variables)
    while remaining:
        chosen = str(authfile.path("podman", remaining))
        (winner,) = [name for name, value in remaining.items() if chosen.startswith(value)]
        order.append(winner)
        del remaining[winner]
    assert order[0] == "REGISTRY_AUTH_FILE", order
    for language in LANGUAGES:
        sections = parse(site / language / "guide.html").find_all("section")
        (section,) = [s for s in sections if s.attrs.get("id") == "other-container-engines"]
        text = section.text()
        positions = [text.find(name) for name in order]
        assert -1 not in positions and positions == sorted(positions), (
            f"{language}: the guide names {order} in another order"
        )


def test_guide_says_what_the_token_cache_key_is_made_of(site: Path) -> None:
    """The key is the account (or the caller's own), region, API endpoint and
    principal; not the registry host."""
    from ecr_tasks.cache import entry_key

    environ = {"AWS_ENDPOINT_URL": "http://127.0.0.1:5000"}
    base = entry_key("eu-west-1", None, False, "profile:a", {})
    for changed in (
        entry_key("eu-west-2", None, False, "profile:a", {}),
        entry_key("eu-west-1", "111111111111", False, "profile:a", {}),
        entry_key("eu-west-1", None, True, "profile:a", {}),
        entry_key("eu-west-1", None, False, "profile:b", {}),
        entry_key("eu-west-1", None, False, "profile:a", environ),
    ):
        assert changed != base
    assert "host" not in inspect.signature(entry_key).parameters
    for language in LANGUAGES:
        sections = parse(site / language / "guide.html").find_all("section")
        (section,) = [s for s in sections if s.attrs.get("id") == "the-token-cache"]
        text = section.text()
        for word in ("--account", "AWS_ENDPOINT_URL"):
            assert word in text, f"{language}: the token cache section does not name {word}"
    english = main_text(site / "en" / "guide.html")
    assert "keyed by the registry host" not in english


# -- the AWS side: policies to paste -----------------------------------------------------

# IAM actions that are permissions only, with no API operation of the same name.
PERMISSION_ONLY_ACTIONS = {"ecr:BatchImportUpstreamImage", "sts:GetServiceBearerToken"}
AWS_SETUP_SECTIONS = (
    "iam-policies",
    "github-oidc-role",
    "cross-account",
    "lifecycle-policies",
    "pull-through-cache-for-docker-hub-images",
    "replication",
    "pulling-from-ecs-eks-and-ec2",
)


def _json_blocks(path: Path) -> dict[str, object]:
    """Each JSON code block of a built page, parsed, by its caption."""
    import json

    blocks = {}
    for container in parse(path).find_all("div", "literal-block-wrapper"):
        (caption,) = container.find_all("span", "caption-text")
        for pre in container.find_all("pre"):
            if any("highlight-json" in div.classes for div in container.find_all("div")):
                blocks[caption.text()] = json.loads(pre.text())
    return blocks


def _actions(policy: object) -> list[str]:
    """Every ``Action`` named in a policy document."""
    found: list[str] = []
    if isinstance(policy, dict):
        for key, value in policy.items():
            if key == "Action":
                found.extend([value] if isinstance(value, str) else value)
            else:
                found.extend(_actions(value))
    elif isinstance(policy, list):
        for item in policy:
            found.extend(_actions(item))
    return found


def _real_action(action: str) -> bool:
    import botocore.session

    prefix, _, name = action.partition(":")
    service = {"ecr": "ecr", "ecr-public": "ecr-public", "sts": "sts"}.get(prefix)
    if service is None:
        return False
    operations = botocore.session.get_session().get_service_model(service).operation_names
    return name in operations or action in PERMISSION_ONLY_ACTIONS


@pytest.mark.parametrize("language", LANGUAGES)
def test_aws_setup_page_has_each_topic(site: Path, language: str) -> None:
    page = parse(site / language / "aws-setup.html")
    ids = {e.attrs.get("id") for e in page.find_all("section") + page.find_all("span")}
    missing = [topic for topic in AWS_SETUP_SECTIONS if topic not in ids]
    assert not missing, f"{language}/aws-setup.html lacks {missing}"
    recipes = parse(site / language / "recipes.html").find_all("section")
    assert "multi-architecture-images-with-buildx" in {e.attrs.get("id") for e in recipes}


@pytest.mark.parametrize("language", LANGUAGES)
def test_policies_on_the_site_are_valid_json_with_real_actions(site: Path, language: str) -> None:
    blocks = _json_blocks(site / language / "aws-setup.html")
    assert set(blocks) == {
        "ecr-push.json",
        "ecr-pull.json",
        "github-trust-policy.json",
        "repository-policy.json",
        "lifecycle-policy.json",
    }, sorted(blocks)
    for name, document in blocks.items():
        if name == "lifecycle-policy.json":
            continue
        assert isinstance(document, dict) and document["Version"] == "2012-10-17", name
        for statement in document["Statement"]:
            assert statement["Effect"] == "Allow", name
            # An identity policy names resources, a resource or trust policy a principal.
            assert ("Resource" in statement) != ("Principal" in statement), name
        for action in _actions(document):
            assert _real_action(action), f"{name}: {action} is not an IAM action"
    # Every action the pages name in text is real too.
    for page in ("aws-setup", "recipes", "troubleshooting"):
        text = main_text(site / language / f"{page}.html")
        for action in set(re.findall(r"\b(?:ecr|ecr-public|sts):[A-Z]\w+", text)):
            assert _real_action(action), f"{language}/{page}: {action} is not an IAM action"


def test_push_policy_allows_what_push_needs(site: Path) -> None:
    """The pasted push policy covers the push row of the permission table."""
    blocks = _json_blocks(site / "en" / "aws-setup.html")
    granted = set(_actions(blocks["ecr-push.json"]))
    for needed in (
        "ecr:GetAuthorizationToken",
        "ecr:BatchCheckLayerAvailability",
        "ecr:InitiateLayerUpload",
        "ecr:UploadLayerPart",
        "ecr:CompleteLayerUpload",
        "ecr:PutImage",
        "ecr:BatchGetImage",
        "ecr:DescribeRepositories",
        "ecr:CreateRepository",
    ):
        assert needed in granted, needed
    pull = set(_actions(blocks["ecr-pull.json"]))
    assert pull == {"ecr:GetAuthorizationToken", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"}
    trust = blocks["github-trust-policy.json"]
    (statement,) = trust["Statement"]
    condition = statement["Condition"]["StringEquals"]
    assert condition["token.actions.githubusercontent.com:sub"].startswith("repo:")
    assert condition["token.actions.githubusercontent.com:aud"] == "sts.amazonaws.com"


def test_lifecycle_policy_follows_ecrs_rules(site: Path) -> None:
    """Unique priorities; a tagged rule names its tags, an untagged one none;
    an "any" rule comes last; counts and units go together."""
    rules = _json_blocks(site / "en" / "aws-setup.html")["lifecycle-policy.json"]["rules"]
    priorities = [rule["rulePriority"] for rule in rules]
    assert len(set(priorities)) == len(priorities)
    kinds = set()
    for rule in rules:
        selection = rule["selection"]
        status = selection["tagStatus"]
        kinds.add(status)
        lists = {"tagPatternList", "tagPrefixList"} & set(selection)
        assert bool(lists) == (status == "tagged"), rule
        if status == "any":
            assert rule["rulePriority"] == max(priorities), rule
        if selection["countType"] == "sinceImagePushed":
            assert selection["countUnit"] == "days", rule
        else:
            assert selection["countType"] == "imageCountMoreThan" and "countUnit" not in selection
        assert rule["action"] == {"type": "expire"}
    assert kinds == {"tagged", "untagged"}


@pytest.mark.parametrize("language", LANGUAGES)
def test_comparison_points_to_the_pricing_page(site: Path, language: str) -> None:
    links = [a.attrs.get("href") for a in parse(site / language / "comparison.html").find_all("a")]
    assert "https://aws.amazon.com/ecr/pricing/" in links


def test_chinese_footer_names_the_copyright_holder_in_chinese(site: Path) -> None:
    for page in ("index", "guide"):
        (footer,) = parse(site / "zh_CN" / f"{page}.html").find_all("footer")
        text = footer.text()
        assert "ecr-tasks 作者" in text and "the ecr-tasks authors" not in text, text
    (footer,) = parse(site / "en" / "index.html").find_all("footer")
    assert "the ecr-tasks authors" in footer.text()
