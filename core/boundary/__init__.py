"""The boundary: every call through which a program touches the outside world.

`table` lists them declaratively; `patcher` applies the table before user code runs;
the other modules are the wrappers for calls that need more than "record the result".
"""
