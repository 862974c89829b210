"""`retrace-tui dap`: the engine behind the Debug Adapter Protocol, for editors.

VS Code, nvim-dap and other DAP clients open a recording through it and step through
the run both ways with their own UI; `adapter.py` is the server, `vscode/` the VS Code
extension shipped with the package (see docs/editors.md).
"""
