"""A replay's decoded tape is out of the garbage collector's sight (csrc/untrack.c): a
full collection would otherwise write into every list, tuple and dict of it, and each
snapshot of the debugger keeps a copy of every page written after it (an interval of a
5,000-test pytest run holding one full collection rewrote 82 MiB, 56 MiB untracked)."""
import gc
import weakref

from retrace_core.replay.untracked import out_of_collectors_sight
from retrace_core.tape import codec


class Node:
    pass


def _decoded(*values) -> list:
    return codec.unpack_all_deferred(b"".join(codec.packb(value) for value in values))


def test_the_tapes_containers_are_untracked_and_survive_collections():
    values = [[1, "a", (2.5, [3, {"k": [4, Node.__name__]}])] for _ in range(1000)]
    objects = _decoded(*values)
    assert objects == values and gc.is_tracked(objects) and gc.is_tracked(objects[0])
    out_of_collectors_sight(objects)
    first = objects[0]
    assert type(first[2]) is tuple
    assert not any(gc.is_tracked(o) for o in (objects, first, first[2], first[2][1], first[2][1][1]))
    gc.collect()
    assert objects == values


def test_what_the_program_puts_in_them_is_collected_as_before():
    objects = out_of_collectors_sight(_decoded({"k": 1}, [1, 2]))
    answer_dict, answer_list = objects
    assert not gc.is_tracked(answer_dict) and not gc.is_tracked(answer_list)
    answer_dict["node"] = Node()  # a dict takes tracking back when it holds a tracked value
    assert gc.is_tracked(answer_dict)
    collected = []
    cycle = Node()
    cycle.me = cycle
    weakref.finalize(cycle, collected.append, "gone")
    answer_list.append(Node())
    del cycle
    gc.collect()
    assert collected == ["gone"] and answer_list[2].__class__ is Node
