"""Sphinx directives that document an Invoke collection by reading it at build time.

``@task`` objects are not functions, so ``automodule`` cannot describe them; this
extension asks the collection itself (``task_names``, ``get_arguments()``, ...) so
the reference follows the code.  It provides:

``.. invoke-collection:: package.module:attribute``
    One section per task: docstring, usage line, a table of every flag (help text,
    default, whether it repeats) and example commands.  Examples come from the
    directive's content, one ``task: command`` per line; each is parsed with
    Invoke's own parser at build time, so an example that uses a flag the task no
    longer has fails the build.  A task without a written example gets a generated
    one.  ``:required: push --tag`` shows a flag the task cannot run without
    (no brackets in the usage line, "required" as its default);
    ``:defaults: pull --tag=latest`` gives the value a flag falls back to, which
    its help string must state as ``(default: latest)``.

``.. invoke-settings:: package.module:attribute key``
    Wraps a hand-written table of settings and checks that its first column names
    exactly the keys the collection declares under ``key`` in its configuration.

``:task:`name``` links to a task's section in the reference.

Translation:

* The fixed labels (``Flag``, ``Default``, ...) are translated through the
  ``sphinx`` catalog (see :data:`LABELS`).
* Task docstrings (every paragraph) and flag help strings are ordinary translatable
  paragraphs of the page that holds the directive: ``python docs/build.py
  --update-catalogs`` extracts them into that page's catalog (``reference.po``)
  and the other languages show the translation.  The message is the text as
  written in the code, lines joined, with its ``code`` spans.  A docstring or help
  string that changes needs a new translation, and the docs tests say so.
* Task names, flags, defaults, usage lines and examples are code and never
  translated; neither is autodoc output on the API page (see
  :class:`KeepCodeTextUntranslated`).
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import re
import shlex
from pathlib import Path
from typing import Any, ClassVar

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.locale import _
from sphinx.transforms import SphinxTransform
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)

_INLINE_LITERAL = re.compile(r"``(.+?)``|`([^`]+?)`")


def load_object(spec: str) -> Any:
    """Import ``package.module:attribute`` and return the attribute."""
    module_name, _, attribute = spec.partition(":")
    module = importlib.import_module(module_name)
    obj = module
    for part in filter(None, attribute.split(".")):
        obj = getattr(obj, part)
    return obj


def inline_text(text: str) -> list[nodes.Node]:
    """Split *text* into text and literal nodes (``code`` and `code` spans).

    Docstrings and help strings are written for ``inv --help`` as much as for this
    site, so they are not parsed as reStructuredText: only literal spans are kept.
    """
    result: list[nodes.Node] = []
    position = 0
    for match in _INLINE_LITERAL.finditer(text):
        if match.start() > position:
            result.append(nodes.Text(text[position : match.start()]))
        code = match.group(1) or match.group(2)
        result.append(nodes.literal(code, code))
        position = match.end()
    if position < len(text):
        result.append(nodes.Text(text[position:]))
    return result


def code_paragraph(text: str) -> nodes.paragraph:
    """A paragraph of text taken from the code (a docstring block, a help string).

    Its ``rawsource`` is the text as written, code spans included, which is the
    message gettext extracts and the key its translation is looked up by.  The
    caller must give it a source and line (``set_source_info``): Sphinx
    translates only nodes that have one.
    """
    text = " ".join(text.split())
    return nodes.paragraph(text, "", *inline_text(text))


def docstring_blocks(doc: str | None) -> list[str]:
    """A docstring's paragraphs (blocks separated by blank lines), lines joined."""
    if not doc:
        return []
    blocks = re.split(r"\n\s*\n", inspect.cleandoc(doc))
    return [text for text in (" ".join(block.split()) for block in blocks) if text]


def docstring_paragraphs(doc: str | None) -> list[nodes.paragraph]:
    """Turn a docstring into paragraphs, one per block separated by blank lines."""
    return [code_paragraph(text) for text in docstring_blocks(doc)]


def task_arguments(task: Any) -> list[Any]:
    """``task.get_arguments()``, leaving the task as it was.

    Invoke moves each help string out of ``task.help`` into the argument it
    builds, so a second call finds no help at all; put the strings back.
    """
    saved = dict(task.help)
    try:
        return task.get_arguments()
    finally:
        task.help = saved


def contexts(collection: Any) -> list[Any]:
    """``collection.to_contexts()`` without using up the tasks' help strings."""
    tasks = [collection[name] for name in collection.task_names]
    saved = [dict(task.help) for task in tasks]
    try:
        return collection.to_contexts()
    finally:
        for task, help_strings in zip(tasks, saved, strict=True):
            task.help = help_strings


def metavar(arg: Any) -> str:
    return arg.name.replace("-", "_").upper()


def flag_spellings(arg: Any) -> list[str]:
    """The ways to spell a flag on the command line, long names first."""
    names = sorted(arg.names, key=lambda name: (len(name) == 1, name))
    takes_value = arg.kind is not bool
    if arg.kind is bool and arg.default is True:
        # Invoke adds an inverse flag for booleans that default to on;
        # the plain flag would change nothing.
        return [f"--no-{names[0]}"]
    spelled = []
    for name in names:
        flag = f"-{name}" if len(name) == 1 else f"--{name}"
        if takes_value:
            value = f"[{metavar(arg)}]" if arg.optional else metavar(arg)
            flag = f"{flag} {value}"
        spelled.append(flag)
    return spelled


def is_repeatable(task: Any, arg: Any) -> bool:
    return arg.kind is list or arg.name.replace("-", "_") in (getattr(task, "iterable", None) or [])


def usage_line(
    program: str, name: str, task: Any, arguments: list[Any], required: frozenset[str] = frozenset()
) -> str:
    """``inv push --tag TAG... [--image IMAGE] ...``: required flags without brackets."""
    parts = [program, name]
    for arg in arguments:
        if arg.positional:
            parts.append(metavar(arg))
            continue
        spelled = flag_spellings(arg)[0]
        suffix = "..." if is_repeatable(task, arg) else ""
        if flag_key(arg) in required:
            parts.append(f"{spelled}{suffix}")
        else:
            parts.append(f"[{spelled}]{suffix}")
    return " ".join(parts)


def parse_flag_list(text: str | None) -> dict[tuple[str, str], str]:
    """``push --tag, pull --tag=latest`` -> ``{("push", "tag"): "", ("pull", "tag"): "latest"}``."""
    found: dict[tuple[str, str], str] = {}
    for item in filter(None, (part.strip() for part in (text or "").split(","))):
        task_name, _, flag = item.partition(" ")
        flag, _, value = flag.strip().partition("=")
        found[(task_name, flag.removeprefix("--").replace("_", "-"))] = value.strip()
    return found


def flag_key(arg: Any) -> str:
    """A flag's long name as typed, ``kms-key``, however Invoke stores it."""
    return max(arg.names, key=len).replace("_", "-")


def generated_example(program: str, name: str, arguments: list[Any]) -> str:
    """An example for a task nobody wrote one for: its positional arguments only."""
    parts = [program, name]
    parts += [f"<{arg.name}>" for arg in arguments if arg.positional]
    return " ".join(parts)


#: Every fixed label this extension writes.  They are translated through the
#: "sphinx" message catalog, which a project may extend with its own
#: ``locale/<language>/LC_MESSAGES/sphinx.po``; Sphinx compiles that file before
#: extensions load, so every label is translated whether or not a page uses it.
LABELS = (
    "Aliases:",
    "Usage",
    "Flags",
    "Flag",
    "Help",
    "Default",
    "Repeats",
    "not set",
    "required",
    "yes",
    "no",
    "on",
    "off",
    "Example",
    "This task takes no flags.",
)


class _Labels:
    """Fixed labels in the build's language (see :data:`LABELS`)."""

    def __init__(self, directive: SphinxDirective) -> None:
        self.directive = directive

    @staticmethod
    def text(label: str) -> str:
        assert label in LABELS, label
        return _(label)

    def paragraph(self, label: str, classes: list[str] | None = None) -> nodes.paragraph:
        text = self.text(label)
        node = nodes.paragraph(text, text, classes=classes or [])
        node["translatable"] = False  # already in the build's language
        return node

    def rubric(self, label: str) -> nodes.rubric:
        text = self.text(label)
        node = nodes.rubric(text, text)
        node["translatable"] = False  # already in the build's language
        return node


def _table(
    headers: list[nodes.Node], rows: list[list[list[nodes.Node]]], widths: list[int]
) -> nodes.table:
    table = nodes.table(classes=["ecr-flag-table"])
    group = nodes.tgroup(cols=len(headers))
    table += group
    for width in widths:
        group += nodes.colspec(colwidth=width)
    head = nodes.thead()
    group += head
    header_row = nodes.row()
    for header in headers:
        header_row += nodes.entry("", header)
    head += header_row
    body = nodes.tbody()
    group += body
    for cells in rows:
        row = nodes.row()
        for cell in cells:
            row += nodes.entry("", *cell)
        body += row
    return table


class InvokeCollectionDirective(SphinxDirective):
    required_arguments = 1
    has_content = True
    option_spec: ClassVar[dict[str, Any]] = {
        "program": directives.unchanged,
        # Flags a task cannot run without: ``push --tag, tag --tag``.
        "required": directives.unchanged,
        # What a flag left out means when that is a value rather than a setting:
        # ``pull --tag=latest``.  The flag's help must say "(default: latest)".
        "defaults": directives.unchanged,
    }

    def run(self) -> list[nodes.Node]:
        spec = self.arguments[0]
        try:
            collection = load_object(spec)
        except Exception as exc:  # reported as a build warning, which -W turns fatal
            logger.warning(
                "invoke-collection: cannot load %s: %s", spec, exc, location=self.get_location()
            )
            return []
        self._note_package_files(spec)
        program = self.options.get("program", "inv")
        self.required = parse_flag_list(self.options.get("required"))
        self.defaults = parse_flag_list(self.options.get("defaults"))
        self._check_flag_lists(collection)
        examples = self._examples(collection, program)
        labels = _Labels(self)
        std = self.env.domains.standard_domain
        result: list[nodes.Node] = []
        for name in sorted(collection.task_names):
            task = collection[name]
            node_id = f"task-{name.replace('.', '-')}"
            section = nodes.section(ids=[node_id], classes=["ecr-task"])
            title = nodes.title("", "", nodes.literal(name, name))
            title["translatable"] = False  # a task's name is the same in every language
            section += title
            std.note_object("task", name, node_id, location=section)
            aliases = collection.task_names[name]
            if aliases:
                para = labels.paragraph("Aliases:")
                section += para
                section += nodes.paragraph(
                    "", "", nodes.literal(", ".join(aliases), ", ".join(aliases))
                )
            for paragraph in docstring_paragraphs(getattr(task.body, "__doc__", None)):
                self.set_source_info(paragraph)  # translatable: see the module docstring
                section += paragraph
            arguments = task_arguments(task)
            required = frozenset(flag for task_name, flag in self.required if task_name == name)
            usage = usage_line(program, name, task, arguments, required)
            section += labels.rubric("Usage")
            section += nodes.literal_block(usage, usage, language="text", classes=["ecr-usage"])
            if arguments:
                section += labels.rubric("Flags")
                section += self._flag_table(name, task, arguments, labels)
            else:
                section += labels.paragraph("This task takes no flags.")
            section += labels.rubric("Example")
            for command in examples.get(name) or [generated_example(program, name, arguments)]:
                section += nodes.literal_block(
                    command, command, language="console", classes=["ecr-example"]
                )
            result.append(section)
        return result

    def _check_flag_lists(self, collection: Any) -> None:
        """Every flag named in ``:required:`` and ``:defaults:`` exists, and a
        stated default is the one the flag's help string gives."""
        for option, flags in (("required", self.required), ("defaults", self.defaults)):
            for (task_name, flag), value in flags.items():
                arg = None
                if task_name in collection.task_names:
                    task = collection[task_name]
                    arg = next((a for a in task_arguments(task) if flag_key(a) == flag), None)
                if arg is None:
                    logger.warning(
                        "invoke-collection: :%s: names %s --%s, which does not exist",
                        option,
                        task_name,
                        flag,
                        location=self.get_location(),
                    )
                elif option == "defaults" and f"(default: {value})" not in (arg.help or ""):
                    logger.warning(
                        "invoke-collection: the help of %s --%s does not say (default: %s)",
                        task_name,
                        flag,
                        value,
                        location=self.get_location(),
                    )

    def _flag_table(
        self, task_name: str, task: Any, arguments: list[Any], labels: _Labels
    ) -> nodes.table:
        rows = []
        for arg in arguments:
            spelled = flag_spellings(arg)
            flag_cell: list[nodes.Node] = []
            for spelling in spelled:
                flag_cell.append(nodes.paragraph("", "", nodes.literal(spelling, spelling)))
            help_cell: list[nodes.Node] = []
            if (arg.help or "").strip():
                help_paragraph = code_paragraph(arg.help)
                self.set_source_info(help_paragraph)  # translatable: see the module docstring
                help_cell.append(help_paragraph)
            rows.append(
                [
                    flag_cell,
                    help_cell,
                    [self._default(task_name, arg, labels)],
                    [self._repeats(task, arg, labels)],
                ]
            )
        headers = [labels.paragraph(text) for text in ("Flag", "Help", "Default", "Repeats")]
        return _table(headers, rows, [22, 48, 15, 15])

    def _default(self, task_name: str, arg: Any, labels: _Labels) -> nodes.Node:
        key = (task_name, flag_key(arg))
        if key in self.required:
            return labels.paragraph("required")
        if arg.kind is bool:
            return labels.paragraph("on" if arg.default else "off")
        if arg.default is None and key in self.defaults:
            return _default_paragraph(self.defaults[key], labels)
        return _default_paragraph(arg.default, labels)

    @staticmethod
    def _repeats(task: Any, arg: Any, labels: _Labels) -> nodes.Node:
        return labels.paragraph("yes" if is_repeatable(task, arg) else "no")

    def _examples(self, collection: Any, program: str) -> dict[str, list[str]]:
        """Read ``task: command`` lines and check each command with Invoke's parser."""
        from invoke.exceptions import ParseError
        from invoke.parser import Parser

        examples: dict[str, list[str]] = {}
        for offset, line in enumerate(self.content):
            if not line.strip():
                continue
            name, sep, command = line.partition(":")
            name, command = name.strip(), command.strip()
            location = (self.content.source(offset), self.content.offset(offset) + 1)
            if not sep or name not in collection.task_names:
                logger.warning(
                    "invoke-collection: example for unknown task %r", name, location=location
                )
                continue
            argv = shlex.split(command)
            if argv[:1] != [program]:
                logger.warning(
                    "invoke-collection: example must start with %r: %s",
                    program,
                    command,
                    location=location,
                )
                continue
            try:
                parsed = Parser(contexts=contexts(collection)).parse_argv(argv[1:])
            except ParseError as exc:
                logger.warning(
                    "invoke-collection: example %r does not parse: %s",
                    command,
                    exc,
                    location=location,
                )
                continue
            if name not in [context.name for context in parsed]:
                logger.warning(
                    "invoke-collection: example %r does not run task %r",
                    command,
                    name,
                    location=location,
                )
                continue
            examples.setdefault(name, []).append(command)
        return examples

    def _note_package_files(self, spec: str) -> None:
        """Rebuild the page when the package's code changes."""
        package = importlib.import_module(spec.partition(":")[0].split(".")[0])
        for path in getattr(package, "__path__", []):
            for file in Path(path).rglob("*.py"):
                self.env.note_dependency(str(file))


class InvokeSettingsDirective(SphinxDirective):
    """A hand-written settings table, checked against the collection's configuration.

    The first column must name every key the collection declares (``ecr.repo``
    or ``repo``) and nothing else; a "Default" column with the values declared in
    the code is appended.  ``:effective-defaults: module:attribute`` names a
    mapping of defaults that apply to keys declared as ``None``.
    """

    required_arguments = 2
    has_content = True
    option_spec: ClassVar[dict[str, Any]] = {"effective-defaults": directives.unchanged}

    def run(self) -> list[nodes.Node]:
        spec, key = self.arguments
        container = nodes.container(classes=["ecr-settings"])
        self.state.nested_parse(self.content, self.content_offset, container)
        try:
            declared = dict(load_object(spec).configuration().get(key, {}))
            # Keys declared as None so that the code can tell "unset" from a value
            # may still have a default in effect; show that one.
            if "effective-defaults" in self.options:
                effective = load_object(self.options["effective-defaults"])
                declared.update({k: v for k, v in effective.items() if declared.get(k) is None})
        except Exception as exc:
            logger.warning(
                "invoke-settings: cannot load %s: %s", spec, exc, location=self.get_location()
            )
            return list(container.children)
        labels = _Labels(self)
        documented = set()
        for table in container.findall(nodes.table):
            group = next(iter(table.findall(nodes.tgroup)))
            colspecs = [child for child in group.children if isinstance(child, nodes.colspec)]
            new_spec = nodes.colspec(colwidth=18)
            group.insert(group.index(colspecs[-1]) + 1, new_spec)
            group["cols"] += 1
            for row in table.findall(nodes.row):
                if isinstance(row.parent, nodes.thead):
                    row += nodes.entry("", labels.paragraph("Default"))
                    continue
                name = _first_literal(row)
                if name is None:
                    row += nodes.entry()
                    continue
                name = name.removeprefix(f"{key}.")
                documented.add(name)
                row += nodes.entry("", _default_paragraph(declared.get(name), labels))
        for missing in sorted(set(declared) - documented):
            logger.warning(
                "invoke-settings: %s.%s is declared by the collection but not documented",
                key,
                missing,
                location=self.get_location(),
            )
        for extra in sorted(documented - set(declared)):
            logger.warning(
                "invoke-settings: %s.%s is documented but the collection does not declare it",
                key,
                extra,
                location=self.get_location(),
            )
        return list(container.children)


def _first_literal(row: nodes.row) -> str | None:
    if not row.children:
        return None
    literal = next(iter(row.children[0].findall(nodes.literal)), None)
    return literal.astext() if literal is not None else None


def _default_paragraph(value: Any, labels: _Labels) -> nodes.paragraph:
    if value is None or value == []:
        return labels.paragraph("not set", classes=["ecr-unset"])
    text = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return nodes.paragraph("", "", nodes.literal(text, text))


class KeepCodeTextUntranslated(SphinxTransform):
    """Keep docstrings rendered by autodoc, and paragraphs of bare code, out of the catalogs.

    The API page documents Python for Python programmers and stays in English.
    Task docstrings and help strings on the reference page are not autodoc
    output and are translated like any paragraph.  Runs before Sphinx's i18n
    transforms (priority 10 and 20), so gettext neither extracts these
    paragraphs nor replaces them.
    """

    default_priority = 5

    def apply(self, **kwargs: Any) -> None:
        for node in self.document.findall(nodes.TextElement):
            if isinstance(node, nodes.Inline):
                # Inline nodes are never translated unless marked translatable,
                # and Sphinx unwraps every inline that carries the mark at all
                # (RemoveTranslatableInline): marking a signature's parts would
                # glue ``repo=None`` into ``=repoNone``.
                continue
            if ":docstring of " in (node.source or "") or _inside(node, addnodes.desc):
                node["translatable"] = False
            elif isinstance(node, (nodes.paragraph, nodes.term, nodes.title)) and _only_code(node):
                # A table cell holding just ``ecr.repo`` reads the same in every
                # language; translators need not copy it.
                node["translatable"] = False


def _only_code(node: nodes.TextElement) -> bool:
    children = [c for c in node.children if not (isinstance(c, nodes.Text) and not c.strip())]
    return len(children) == 1 and isinstance(children[0], nodes.literal)


def _inside(node: nodes.Node, kind: type) -> bool:
    parent = node.parent
    while parent is not None:
        if isinstance(parent, kind):
            return True
        parent = parent.parent
    return False


def spell_out_factories(
    app: Sphinx,
    what: str,
    name: str,
    obj: Any,
    options: Any,
    signature: str | None,
    return_annotation: str | None,
) -> tuple[str | None, str | None] | None:
    """Show a dataclass field's ``default_factory`` as a call (``regions=list()``).

    Python's own signature of a generated ``__init__`` says ``<factory>``, which
    is not Python; the API page's signatures must read as code.
    """
    if what != "class" or not signature or "<factory>" not in signature:
        return None
    for field in dataclasses.fields(obj):
        factory = field.default_factory
        if factory is not dataclasses.MISSING:
            call = f"{getattr(factory, '__qualname__', 'factory')}()"
            signature = signature.replace(f"{field.name}=<factory>", f"{field.name}={call}")
    return signature, return_annotation


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("autodoc-process-signature", spell_out_factories)
    app.add_object_type("task", "task")
    app.add_directive("invoke-collection", InvokeCollectionDirective)
    app.add_directive("invoke-settings", InvokeSettingsDirective)
    app.add_transform(KeepCodeTextUntranslated)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
