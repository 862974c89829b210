"""Themes: the shipped files load as real Textual themes, names resolve, the choice is remembered."""
from __future__ import annotations

import asyncio
import os
import sys

import pytest
from pygments.styles import get_all_styles
from textual.app import App, ComposeResult
from textual.widgets import Button, DataTable, Footer, Input

from retrace_tui.errors import UsageError
from retrace_tui.theming import AppTheme, config_path, load_themes, resolve, save_theme, saved_theme

SHORT_NAMES = ["dark", "light", "high-contrast"]


@pytest.fixture(autouse=True)
def config(tmp_path, monkeypatch):
    """Every test gets its own config file, never the user's."""
    path = tmp_path / "config" / "config.toml"
    monkeypatch.setenv("RETRACE_TUI_CONFIG", str(path))
    return path


@pytest.fixture(scope="module")
def themes() -> dict[str, AppTheme]:
    return load_themes()


def test_the_three_themes_ship(themes):
    assert sorted(themes) == sorted(SHORT_NAMES)
    assert {name: theme.textual.name for name, theme in themes.items()} == {
        "dark": "retrace-dark", "light": "retrace-light", "high-contrast": "retrace-high-contrast"}
    assert all(theme.short_name == name for name, theme in themes.items())
    assert themes["dark"].textual.dark and themes["high-contrast"].textual.dark
    assert not themes["light"].textual.dark


@pytest.mark.parametrize("short_name", SHORT_NAMES)
def test_pygments_style_exists(themes, short_name):
    assert themes[short_name].pygments_style in set(get_all_styles())


class _Probe(App):
    """Widgets whose CSS uses most theme variables, so a bad colour or variable shows."""

    def compose(self) -> ComposeResult:
        yield Input("text")
        yield Button("button", variant="primary")
        table = DataTable()
        table.add_columns("a", "b")
        table.add_row("1", "2")
        yield table
        yield Footer()


@pytest.mark.parametrize("short_name", SHORT_NAMES)
def test_is_a_valid_textual_theme(themes, short_name):
    theme = themes[short_name].textual

    async def apply() -> dict[str, str]:
        app = _Probe()
        async with app.run_test() as pilot:
            app.register_theme(theme)
            app.theme = theme.name
            await pilot.pause()
            assert app.current_theme.name == theme.name
            return app.get_css_variables()

    variables = asyncio.run(apply())
    assert variables["background"].lower() == theme.background.lower()
    for name, value in theme.variables.items():
        assert variables[name] == value


def _contrast(one: str, other: str) -> float:
    """WCAG contrast ratio of two #rrggbb colours."""

    def luminance(colour: str) -> float:
        channels = [int(colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
        r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    high, low = sorted([luminance(one), luminance(other)], reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_high_contrast_is_high_contrast(themes):
    theme = themes["high-contrast"].textual
    assert theme.background == "#000000" and theme.foreground == "#ffffff"
    for field in ("primary", "secondary", "accent", "warning", "error", "success"):
        assert _contrast(getattr(theme, field), theme.background) >= 7, field
    cursor = theme.variables
    assert _contrast(cursor["block-cursor-foreground"], cursor["block-cursor-background"]) >= 7


@pytest.mark.parametrize("short_name", ["dark", "light"])
def test_ordinary_themes_are_readable(themes, short_name):
    theme = themes[short_name].textual
    for background in (theme.background, theme.surface, theme.panel):
        assert _contrast(theme.foreground, background) >= 7


def test_resolve_by_short_and_textual_name(themes):
    for short_name in SHORT_NAMES:
        theme = themes[short_name]
        assert resolve(short_name, themes) is theme
        assert resolve(theme.textual.name, themes) is theme


def test_resolve_none_is_dark_without_a_saved_choice(themes):
    assert resolve(None, themes).short_name == "dark"


def test_resolve_none_is_the_saved_choice(themes):
    save_theme("light")
    assert resolve(None, themes).short_name == "light"


def test_a_stale_saved_choice_falls_back_to_dark(themes, config):
    config.parent.mkdir(parents=True)
    config.write_text('theme = "solarized"\n')
    assert resolve(None, themes).short_name == "dark"


def test_unknown_name_is_a_one_line_usage_error(themes):
    with pytest.raises(UsageError) as raised:
        resolve("sepia", themes)
    assert str(raised.value) == "unknown theme 'sepia': one of dark, light, high-contrast"


def test_config_path_honours_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("RETRACE_TUI_CONFIG", str(tmp_path / "x.toml"))
    assert config_path() == tmp_path / "x.toml"
    monkeypatch.delenv("RETRACE_TUI_CONFIG")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert config_path() == tmp_path / "xdg" / "retrace-tui" / "config.toml"
    monkeypatch.setenv("XDG_CONFIG_HOME", "relative")  # invalid per the XDG spec: ignored
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert config_path() == tmp_path / "home" / ".config" / "retrace-tui" / "config.toml"


def test_save_and_saved_round_trip(config):
    assert saved_theme() is None
    save_theme("high-contrast")
    assert config.read_text() == 'theme = "high-contrast"\n'
    assert saved_theme() == "high-contrast"
    save_theme("light")
    assert saved_theme() == "light"
    assert config.read_text().count("theme") == 1


def test_save_keeps_other_keys_comments_and_tables(config):
    config.parent.mkdir(parents=True)
    config.write_text('# mine\neditor = "vim"\ntheme = "dark"\n\n[keys]\ntheme = "not this one"\n')
    save_theme("light")
    assert config.read_text() == '# mine\neditor = "vim"\ntheme = "light"\n\n[keys]\ntheme = "not this one"\n'


def test_save_adds_the_key_above_existing_tables(config):
    config.parent.mkdir(parents=True)
    config.write_text('[keys]\nquit = "q"\n')
    save_theme("light")
    assert saved_theme() == "light"
    assert config.read_text().endswith('[keys]\nquit = "q"\n')


def test_save_leaves_a_broken_config_alone(config):
    config.parent.mkdir(parents=True)
    config.write_text("this is = = not toml\n")
    save_theme("light")
    assert config.read_text() == "this is = = not toml\n"
    assert saved_theme() is None


def test_save_writes_through_a_symlink(tmp_path, config):
    target = tmp_path / "dotfiles" / "retrace.toml"
    target.parent.mkdir()
    target.write_text('editor = "vim"\n')
    config.parent.mkdir(parents=True)
    config.symlink_to(target)
    save_theme("light")
    assert config.is_symlink()
    assert target.read_text() == 'theme = "light"\neditor = "vim"\n'


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0, reason="root ignores permissions")
def test_save_into_an_unwritable_place_does_not_raise(tmp_path, monkeypatch):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        monkeypatch.setenv("RETRACE_TUI_CONFIG", str(locked / "retrace-tui" / "config.toml"))
        save_theme("light")
        assert saved_theme() is None
    finally:
        locked.chmod(0o700)


def test_save_where_a_file_blocks_the_directory_does_not_raise(tmp_path, monkeypatch):
    # Works as root too: no permission can make a regular file into a directory.
    (tmp_path / "file").write_text("")
    monkeypatch.setenv("RETRACE_TUI_CONFIG", str(tmp_path / "file" / "config.toml"))
    save_theme("light")
    assert saved_theme() is None
