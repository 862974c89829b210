"""Breakpoint conditions: which are free of side effects, and evaluating them.

A condition is checked each time its line runs, which may be hundreds of thousands of
times. One without side effects is evaluated in the worker itself, compiled once; any
other runs in a throw-away fork (see Engine._condition_holds), so that a call that
reads the clock or changes an object cannot change the replay.

"Free of side effects" is decided by the controller from the expression's syntax,
conservatively: names, attributes, subscripts, comparisons, boolean and arithmetic
operators, literals, and calls to a few built-in functions that only look. Anything
else (calls to anything else, comprehensions, ``:=``, ``await``, lambdas) is not.
An attribute or an operator can still run user code (a property, ``__eq__``); in the
worker that code runs with the boundary bypassed, so it cannot consume the tape.
"""
from __future__ import annotations

from retrace_core.boundary.guard import bypass

# None that iterates its argument: iterating a generator would change it. min and max
# only with two or more arguments, which they compare without iterating.
PURE_BUILTINS = frozenset({"len", "abs", "min", "max", "isinstance", "issubclass", "type", "bool",
                           "int", "float", "str", "repr", "round", "hasattr", "callable", "id"})


def is_pure(expression: str) -> bool:
    """Is ``expression`` free of side effects, by its syntax? False when it does not parse."""
    import ast  # the controller's only: the worker never imports ast (see preload.py)

    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError:
        return False
    allowed = (ast.Expression, ast.Name, ast.Load, ast.Attribute, ast.Subscript, ast.Slice,
               ast.Compare, ast.BoolOp, ast.BinOp, ast.UnaryOp, ast.IfExp, ast.Constant,
               ast.Tuple, ast.List, ast.Set, ast.Dict, ast.cmpop, ast.boolop, ast.operator,
               ast.unaryop, ast.Call)
    for node in ast.walk(tree):
        if not isinstance(node, allowed):
            return False
        if isinstance(node, ast.Call):
            if not (isinstance(node.func, ast.Name) and node.func.id in PURE_BUILTINS) or node.keywords:
                return False
            if any(isinstance(argument, ast.Starred) for argument in node.args):
                return False
            if node.func.id in ("min", "max") and len(node.args) < 2:
                return False
        if isinstance(node, ast.Name) and node.id.startswith("__"):
            return False  # __import__, __builtins__ and the like
    return True


class Condition:
    """One breakpoint's condition in the worker, compiled once."""

    __slots__ = ("text", "code", "pure", "builtins")

    def __init__(self, text: str, pure: bool) -> None:
        self.text = text
        self.pure = pure
        try:
            self.code = compile(text, "<condition>", "eval")
        except SyntaxError:
            self.code = None  # it fails to evaluate, so it holds: the user sees why when stopped
        names = self.code.co_names if self.code is not None else ()
        self.builtins = [name for name in names if name in PURE_BUILTINS]

    def pure_here(self, frame) -> bool:
        """Pure, and none of the built-ins it calls is shadowed by the program's own name."""
        return self.pure and not any(name in frame.f_locals or name in frame.f_globals
                                     for name in self.builtins)

    def holds(self, frame) -> bool:
        """Evaluate in ``frame``; one that fails to evaluate holds, as in pdb."""
        if self.code is None:
            return True
        try:
            with bypass():
                return bool(eval(self.code, frame.f_globals, frame.f_locals))
        except BaseException:
            return True
