"""What `events`, the timeline and reports show of an event: a recording's event is whatever
its bytes decode to, so a damaged one (a fuzz case found an `[int, dict]` argument list that
`events` then raised a TypeError on) is shown as it is, never raised on."""
from retrace_core.tape.reader import Event
from retrace_core.tape.summary import describe_call, describe_result


def event(arguments: object, value: object, raised: bool = False) -> Event:
    return Event(number=1, thread=0, function="sys.stdout.write", raised=raised, arguments=arguments, value=value)


def test_a_call_with_positional_and_keyword_arguments_reads_like_a_call():
    assert describe_call(event([["hi"], {"end": ""}], 2)) == "sys.stdout.write('hi', end='')"
    assert describe_result(event([["hi"], {}], 2)) == "2"
    assert describe_result(event([], ["builtins", "OSError", [5, "EIO"], None], raised=True)) == "raised OSError(5, 'EIO')"


def test_malformed_arguments_and_raised_values_are_shown_not_raised():
    assert describe_call(event([0, {"env": {"A": 1}, "pid": 1}], 2)) == \
        "sys.stdout.write(0, {'env': {'A': 1}, 'pid': 1})"
    assert describe_result(event([], 7, raised=True)) == "raised 7"
    assert describe_result(event([], ["builtins", "OSError", 5, None], raised=True)).startswith("raised [")
