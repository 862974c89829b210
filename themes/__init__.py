"""Colour themes of the terminal UI, one TOML file each; installed as `retrace_tui.themes` and read by `retrace_tui.theming`."""
