"""Colour themes: the TOML files shipped in `retrace_tui.themes`, and the user's saved choice.

A theme file holds the fields of `textual.theme.Theme` (with an optional `[variables]`
table) plus `pygments_style`, the Pygments style the source pane is highlighted with.
The file's stem ("dark") is the name users type; the Textual name ("retrace-dark") is
what the app registers.
"""
from __future__ import annotations

import dataclasses
import importlib.resources
import json
import os
import re
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

from textual.theme import Theme

from retrace_tui.errors import UsageError

DEFAULT_THEME = "dark"
CONFIG_ENV = "RETRACE_TUI_CONFIG"

# How the choices are listed in messages: the default first, not alphabetically.
_PREFERRED_ORDER = ("dark", "light", "high-contrast")
_THEME_FIELDS = frozenset(field.name for field in dataclasses.fields(Theme))
# A top-level `theme = ...` line (bare or quoted key), as save_theme rewrites it.
_THEME_LINE = re.compile(r"""^\s*(theme|"theme"|'theme')\s*=""")


@dataclass(frozen=True)
class AppTheme:
    """One theme: its short name, its Textual theme and its Pygments style."""

    short_name: str
    textual: Theme
    pygments_style: str


def load_themes() -> dict[str, AppTheme]:
    """Every theme shipped in `retrace_tui.themes`, keyed by short name.

    A broken theme file is a packaging bug, so it raises ValueError naming the file.
    """
    themes: dict[str, AppTheme] = {}
    for entry in sorted(_theme_folder().iterdir(), key=lambda entry: entry.name):
        if entry.is_file() and entry.name.endswith(".toml"):
            short_name = entry.name.removesuffix(".toml")
            themes[short_name] = _parse(short_name, entry.read_text(encoding="utf-8"))
    return themes


def _theme_folder():
    """The installed `retrace_tui.themes`; in a checkout imported as is (not installed:
    `python -m pytest` in the checkout of a non-editable install), the top-level themes/."""
    try:
        return importlib.resources.files("retrace_tui.themes")
    except ModuleNotFoundError:
        return Path(__file__).resolve().parent.parent / "themes"


def _parse(short_name: str, text: str) -> AppTheme:
    where = f"theme file {short_name}.toml"
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"{where}: {error}") from None
    pygments_style = data.pop("pygments_style", None)
    if not isinstance(pygments_style, str):
        raise ValueError(f"{where}: pygments_style (a string) is missing")
    unknown = sorted(set(data) - _THEME_FIELDS)
    if unknown:
        raise ValueError(f"{where}: not fields of a Textual theme: {', '.join(unknown)}")
    if not isinstance(data.get("name"), str) or not isinstance(data.get("primary"), str):
        raise ValueError(f"{where}: name and primary are required")
    return AppTheme(short_name, Theme(**data), pygments_style)


def resolve(name: str | None, themes: dict[str, AppTheme]) -> AppTheme:
    """The theme called `name` (short or Textual name); None means the saved one, else dark.

    An unknown name given by the user is a UsageError. An unknown *saved* name (a theme
    removed by an upgrade, a hand-edited config) falls back to the default instead: a
    stale config file must not keep the debugger from starting.
    """
    if name is None:
        saved = saved_theme()
        found = _find(saved, themes) if saved is not None else None
        if found is not None:
            return found
        name = DEFAULT_THEME
    found = _find(name, themes)
    if found is None:
        raise UsageError(f"unknown theme {name!r}: one of {', '.join(_ordered(themes))}")
    return found


def _find(name: str, themes: dict[str, AppTheme]) -> AppTheme | None:
    if name in themes:
        return themes[name]
    for theme in themes.values():
        if theme.textual.name == name:
            return theme
    return None


def _ordered(themes: dict[str, AppTheme]) -> list[str]:
    def rank(short_name: str) -> tuple[int, str]:
        if short_name in _PREFERRED_ORDER:
            return _PREFERRED_ORDER.index(short_name), short_name
        return len(_PREFERRED_ORDER), short_name

    return sorted(themes, key=rank)


def config_path() -> Path:
    """The user's config file: $RETRACE_TUI_CONFIG, else under $XDG_CONFIG_HOME or ~/.config."""
    override = os.environ.get(CONFIG_ENV)
    if override:
        return Path(override).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME", "")
    # The XDG spec says a relative value is invalid and must be ignored.
    root = Path(base) if os.path.isabs(base) else Path.home() / ".config"
    return root / "retrace-tui" / "config.toml"


def saved_theme() -> str | None:
    """The theme name saved in the config file, or None (no file, unreadable, not TOML, no key)."""
    data = _read_config()
    value = data.get("theme") if data is not None else None
    return value if isinstance(value, str) else None


def _read_config() -> dict | None:
    try:
        text = config_path().read_text(encoding="utf-8")
    # RuntimeError: Path.home() without a resolvable home directory.
    except (OSError, UnicodeDecodeError, RuntimeError):
        return None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return None


def save_theme(short_name: str) -> None:
    """Remember `short_name` in the config file; other keys, comments and tables are kept.

    Never raises: failing to remember a colour choice must not crash a debugging session.
    A config file that is not valid TOML is left alone rather than overwritten.
    """
    try:
        path = config_path()
        try:
            old = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            old = ""
        tomllib.loads(old)  # not TOML: the user's file, mid-edit or broken; don't clobber it
        new = _with_theme(old, short_name)
        # The edit is line-based: only write a result that reads back as intended.
        if tomllib.loads(new).get("theme") != short_name:
            return
        # Through a symlink (dotfiles kept elsewhere), update the target, not the link.
        _write_atomically(path.resolve(), new)
    except (OSError, UnicodeDecodeError, RuntimeError, tomllib.TOMLDecodeError):
        return


def _with_theme(text: str, short_name: str) -> str:
    """`text` with its top-level `theme` key set to `short_name`, everything else untouched."""
    line = f"theme = {json.dumps(short_name)}"  # a JSON string is a valid TOML basic string
    lines = text.splitlines()
    for index, existing in enumerate(lines):
        if existing.lstrip().startswith("["):
            break  # keys below a table header belong to that table, not the top level
        if _THEME_LINE.match(existing):
            lines[index] = line
            return "\n".join(lines) + "\n"
    # Top-level keys must precede every table, so a new one goes first.
    return "\n".join([line, *lines]) + "\n"


def _write_atomically(path: Path, text: str) -> None:
    # Write a sibling and rename it over the file, so an interrupted write never leaves
    # a truncated config behind.
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
