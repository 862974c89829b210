"""The docs against the code: the CLI reference, the TUI's keys, and every command shown.

Each test reads docs/*.md and the real parser or app, so a flag, command or key that is
added, renamed or removed in the code fails here until the docs say so too.
"""
from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from retrace_tui.cli import _normalise, _split_program, build_parser
from retrace_tui.errors import UsageError

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
# The pages whose commands a user copies: the docs, the README and the quickstart's walkthrough.
PAGES = sorted(DOCS.glob("*.md")) + [ROOT / "README.md", ROOT / "quickstart" / "README.md"]
CLI_DOC = DOCS / "cli.md"
TUI_DOC = DOCS / "tui.md"

# Long options in prose and tables: `--pid`, --keep-env NAME. Not `--` alone.
LONG_FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")
FENCE = re.compile(r"^[ \t]*```(\S*)[^\n]*\n(.*?)^[ \t]*```", re.M | re.S)
# How the TUI guide writes keys whose binding name is not what is pressed.
KEY_NAMES = {
    "question_mark": "?", "left_square_bracket": "[", "right_square_bracket": "]", "escape": "Esc",
    "up": "↑", "down": "↓", "pageup": "PgUp", "pagedown": "PgDn", "home": "Home", "end": "End",
    "enter": "Enter", "space": "Space",
}


def subcommands() -> dict:
    """{name: its argparse parser}, for every command of the real CLI."""
    return dict(build_parser()._subparsers._group_actions[0].choices)


def option_strings(parser) -> list[str]:
    return [option for action in parser._actions for option in action.option_strings]


def sections(text: str) -> dict[str, str]:
    """`## retrace-tui NAME` sections of the CLI reference, by NAME."""
    found = {}
    parts = re.split(r"^## ", text, flags=re.M)
    for part in parts[1:]:
        heading, _, body = part.partition("\n")
        match = re.fullmatch(r"retrace-tui (\S+)\s*", heading)
        if match:
            found[match.group(1)] = body
    return found


# -- the CLI reference cannot drift ------------------------------------------------------


def test_every_command_has_its_section():
    documented = sections(CLI_DOC.read_text())
    missing = sorted(set(subcommands()) - set(documented))
    assert not missing, f"docs/cli.md has no '## retrace-tui NAME' section for {missing}"
    unknown = sorted(set(documented) - set(subcommands()))
    assert not unknown, f"docs/cli.md documents commands the CLI does not have: {unknown}"


@pytest.mark.parametrize("command", sorted(subcommands()))
def test_every_option_of_a_command_is_in_its_section(command):
    body = sections(CLI_DOC.read_text()).get(command, "")
    missing = [option for option in option_strings(subcommands()[command])
               if not re.search(rf"`{re.escape(option)}[` ]", body)]
    assert not missing, f"'## retrace-tui {command}' in docs/cli.md does not mention {missing}"


def test_the_options_of_retrace_tui_itself_are_documented():
    text = CLI_DOC.read_text()
    missing = [option for option in option_strings(build_parser()) if f"`{option}" not in text]
    assert not missing, f"docs/cli.md does not mention {missing}"


def test_every_flag_in_the_reference_exists():
    known = set(option_strings(build_parser()))
    for parser in subcommands().values():
        known.update(option_strings(parser))
    written = set(LONG_FLAG.findall(CLI_DOC.read_text()))
    assert written, "no --flag found in docs/cli.md: is the pattern wrong?"
    unknown = sorted(written - known)
    assert not unknown, f"docs/cli.md mentions flags no parser has: {unknown}"


# -- every key of the app is in the TUI guide ---------------------------------------------


def key_shown(key: str) -> str:
    return KEY_NAMES.get(key, key)


def binding_keys(bindings) -> list[str]:
    """What the guide should show for each binding: its key_display, else its key(s)."""
    keys = []
    for binding in bindings:
        if isinstance(binding, tuple):  # ("key", "action", "description") is allowed too
            keys += [key_shown(key.strip()) for key in binding[0].split(",")]
        elif binding.key_display:
            keys.append(binding.key_display)
        else:
            keys += [key_shown(key.strip()) for key in binding.key.split(",")]
    return keys


def test_every_key_of_the_app_is_in_the_tui_guide():
    from retrace_tui.app import RetraceApp

    text = TUI_DOC.read_text()
    keys = binding_keys(RetraceApp.BINDINGS)
    assert "n" in keys and "?" in keys
    missing = [key for key in keys if f"`{key}`" not in text]
    assert not missing, f"docs/tui.md does not show the keys {missing}"


@pytest.mark.parametrize("widget", ["source.SourceView", "locals.LocalsView", "timeline.EventList"])
def test_every_key_of_the_panes_is_in_the_tui_guide(widget):
    from importlib import import_module

    module, _, name = widget.partition(".")
    cls = getattr(import_module(f"retrace_tui.widgets.{module}"), name)
    text = TUI_DOC.read_text()
    missing = [key for key in binding_keys(cls.BINDINGS) if f"`{key}`" not in text]
    assert not missing, f"docs/tui.md does not show the keys {missing} of {name}"


def test_the_pictures_are_referenced():
    text = TUI_DOC.read_text()
    assert "images/tui-dark.svg" in text and "images/tui-light.svg" in text


# -- commands shown in the docs parse as the CLI parses them ------------------------------


def shown_commands() -> list[tuple[str, str]]:
    """(page, command) for every `retrace-tui ...` line of a ```sh or ```console block."""
    found = []
    for page in PAGES:
        for language, block in FENCE.findall(page.read_text()):
            if language not in ("sh", "console", "shell", "bash"):
                continue
            lines, joined = [], ""
            for line in block.splitlines():  # join backslash continuations
                if line.rstrip().endswith("\\"):
                    joined += line.rstrip()[:-1] + " "
                    continue
                lines.append(joined + line)
                joined = ""
            for line in lines:
                line = line.strip()
                if line.startswith("$ "):
                    line = line[2:]
                elif language == "console":
                    continue  # output, not a command
                if line.startswith("retrace-tui "):
                    found.append((str(page.relative_to(ROOT)), line))
    return found


def words_of(command: str) -> list[str]:
    """The command's words as the shell gives them to retrace-tui: up to the first pipe,
    redirection, `;`, `&&` or comment."""
    lexer = shlex.shlex(command, posix=True, punctuation_chars=";&|<>")
    lexer.whitespace_split = True
    lexer.commenters = "#"
    words = []
    for word in lexer:
        if word and set(word) <= set(";&|<>"):
            if words and words[-1].isdigit():  # 2>/dev/null
                words.pop()
            break
        words.append(word)
    return words


def parse_as_the_cli_does(argv: list[str]):
    """What `retrace_tui.cli.main` does before running a command; raises UsageError."""
    argv = _normalise(argv)
    program = None
    if argv[:1] == ["record"]:
        argv, program = _split_program(argv)
    only = argv[0] if argv else None
    parser = build_parser("install" if only == "uninstall" else only)
    try:
        args, unknown = parser.parse_known_args(argv)
    except SystemExit as exit:  # --help and --version print and exit 0
        if exit.code:
            raise
        return None
    if unknown:
        raise UsageError(f"unrecognised arguments: {' '.join(unknown)}")
    if args.command is None:
        raise UsageError("no command")
    if program is not None:
        assert program, "record with nothing after --"
    return args


def test_the_docs_show_commands():
    pages = {page for page, _ in shown_commands()}
    assert {"docs/cli.md", "docs/getting-started.md", "docs/tui.md", "docs/ci.md", "docs/recording.md",
            "README.md", "quickstart/README.md"} <= pages


@pytest.mark.parametrize("page,command", shown_commands(), ids=lambda value: value[:60])
def test_a_command_shown_in_the_docs_parses(page, command):
    argv = words_of(command)[1:]
    try:
        parse_as_the_cli_does(argv)
    except UsageError as error:
        pytest.fail(f"{page}: `{command}` does not parse: {error}")


# -- the CI example is valid YAML ----------------------------------------------------------


def yaml_blocks(page: Path) -> list[str]:
    return [block for language, block in FENCE.findall(page.read_text()) if language in ("yaml", "yml")]


def test_the_ci_page_has_both_examples():
    blocks = yaml_blocks(DOCS / "ci.md")
    assert len(blocks) == 2
    github, gitlab = blocks
    assert "actions/upload-artifact" in github and "if: failure()" in github
    assert "when: on_failure" in gitlab
    for block in blocks:
        assert "retrace-tui record -o pytest.retrace -- -m pytest" in block


def test_the_ci_examples_parse_as_yaml():
    yaml = pytest.importorskip("yaml")
    github, gitlab = (yaml.safe_load(block) for block in yaml_blocks(DOCS / "ci.md"))
    steps = github["jobs"]["test"]["steps"]
    upload = next(step for step in steps if str(step.get("uses", "")).startswith("actions/upload-artifact"))
    assert upload["if"] == "failure()"
    assert any("retrace-tui record" in step.get("run", "") for step in steps)
    assert gitlab["test"]["artifacts"]["when"] == "on_failure"
