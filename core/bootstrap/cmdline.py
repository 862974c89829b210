"""Splitting a ``python`` command line into interpreter options and the program.

``python -X dev -W error -m pytest -q`` runs the program ``-m pytest -q`` with the
interpreter options ``-X dev -W error``; the recorder re-creates the first and runs
the second itself.
"""
from __future__ import annotations

_TAKES_VALUE = "WX"
_ENDS_OPTIONS = "cm"
_LONG_WITH_VALUE = {"--check-hash-based-pycs"}


class CommandLineError(ValueError):
    """The arguments do not name a program python could run."""


def split_python_arguments(arguments: list[str]) -> tuple[list[str], list[str]]:
    """Returns (interpreter options, program): program is ``['-m', mod, ...]``,
    ``['-c', code, ...]``, ``[script, ...]``, or empty for an interactive session."""
    options: list[str] = []
    index = 0
    while index < len(arguments):
        argument = arguments[index]
        if argument == "--":
            return options, arguments[index + 1:]
        if argument == "-" or not argument.startswith("-"):
            return options, arguments[index:]
        if argument.startswith("--"):
            options.append(argument)
            if argument in _LONG_WITH_VALUE:
                if index + 1 >= len(arguments):
                    raise CommandLineError(f"option {argument} needs a value")
                options.append(arguments[index + 1])
                index += 1
            index += 1
            continue
        flags = argument[1:]
        for position, flag in enumerate(flags):
            rest = flags[position + 1:]
            if flag in _ENDS_OPTIONS:
                if rest:
                    value, after = rest, index + 1
                elif index + 1 < len(arguments):
                    value, after = arguments[index + 1], index + 2
                else:
                    raise CommandLineError(f"option -{flag} needs an argument")
                if position:
                    options.append("-" + flags[:position])
                return options, [f"-{flag}", value, *arguments[after:]]
            if flag in _TAKES_VALUE:
                if rest:
                    options.append(argument)
                elif index + 1 < len(arguments):
                    options.extend([argument, arguments[index + 1]])
                    index += 1
                else:
                    raise CommandLineError(f"option -{flag} needs an argument")
                break
        else:
            options.append(argument)
        index += 1
    return options, []


def unsupported_options(options: list[str]) -> str | None:
    """Why these interpreter options cannot be recorded, or None."""
    for option in options:
        if option.startswith("--") or option in ("-W", "-X") or not option.startswith("-"):
            continue
        flags = option[1:]
        for flag in flags:
            if flag in "WX":
                break
            if flag in "EI":
                return (f"-{flag} makes python ignore PYTHONHASHSEED, so string hashing could not be "
                        f"replayed; record without it")
            if flag == "S":
                return "-S leaves out site-packages, where the recorder is installed; record without it"
    return None
