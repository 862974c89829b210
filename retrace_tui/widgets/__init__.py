"""Textual widgets for the retrace-tui debugger."""
