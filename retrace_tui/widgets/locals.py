"""The locals pane: the selected frame's variables as a tree that expands lazily.

Children are fetched from the engine only when a node is opened (`NeedChildren`); a
value is shown as name, type and a bounded repr, and its whole repr on demand
(`NeedFullValue`, the `v` key).
"""
from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode


@dataclass
class ValuePath:
    """Where a node's value lives: the local's name, then child names."""

    path: list[str]
    loaded: bool = False


class LocalsView(Tree[ValuePath]):
    """The selected frame's locals as a tree whose children are fetched from the worker only
    when a node is expanded (a value can be large or endless)."""

    BINDINGS = [Binding("v", "full_value", "Full value", show=False)]  # on the help screen: the footer is full
    DEFAULT_CSS = """
    LocalsView { border: round $panel; border-title-color: $text-muted; overflow-x: hidden; }
    LocalsView:focus { border: round $accent; }
    """

    class NeedChildren(Message):
        """A node was expanded: the app asks the worker for its children."""

        def __init__(self, node: TreeNode[ValuePath]) -> None:
            super().__init__()
            self.node = node

    class NeedFullValue(Message):
        """`v` on a node: the app asks the worker for the whole repr."""

        def __init__(self, path: list[str]) -> None:
            super().__init__()
            self.path = path

    def __init__(self, **kwargs) -> None:
        super().__init__("locals", **kwargs)
        self.show_root = False
        self.border_title = "Locals"
        self.compact = False  # a narrow pane: `name = value`, the type left out

    def show(self, values: list[dict], returned: dict | None = None) -> None:
        """Replace the tree with these locals (dicts of name, type, repr, expandable);
        ``returned`` (function, repr): what the call just stepped over returned, first."""
        self.clear()
        if returned:
            label = Text("↩ ", style="bold", no_wrap=True, overflow="ellipsis")
            label.append(f"{returned['function']}()", style="bold")
            label.append(" = ", style="dim")
            label.append(returned["repr"])
            self.root.add_leaf(label)  # no data: not a local, nothing to expand or evaluate
        for value in values:
            self._add(self.root, value, [value["name"]])
        if not values:
            self.root.add_leaf(Text("(no locals)", style="dim"))

    def add_children(self, node: TreeNode[ValuePath], children: list[dict]) -> None:
        node.data.loaded = True
        for child in children:
            self._add(node, child, [*node.data.path, child["name"]])
        if not children:
            node.add_leaf(Text("(empty)", style="dim"))

    def _add(self, parent: TreeNode[ValuePath], value: dict, path: list[str]) -> None:
        expandable = bool(value.get("expandable"))
        # A leaf has no ▶ in front: two spaces keep its name under its siblings' names.
        label = Text("" if expandable else "  ", no_wrap=True, overflow="ellipsis")
        label.append(value["name"], style="bold")
        # A derived entry (a failing assert's side) is named by its expression: no type.
        label.append(" = " if self.compact or value.get("derived") else f": {value['type']} = ", style="dim")
        label.append(value["repr"])
        if expandable:
            parent.add(label, data=ValuePath(path), allow_expand=True)
        else:
            parent.add_leaf(label, data=ValuePath(path, loaded=True))

    def on_tree_node_expanded(self, event: Tree.NodeExpanded[ValuePath]) -> None:
        event.stop()
        if event.node.data is not None and not event.node.data.loaded:
            event.node.data.loaded = True
            self.post_message(self.NeedChildren(event.node))

    def action_full_value(self) -> None:
        node = self.cursor_node
        if node is not None and node.data is not None:
            self.post_message(self.NeedFullValue(node.data.path))
