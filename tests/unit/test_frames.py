"""A tape's lz4 frames read back whole, frame by frame; a cut-off last frame keeps what
came before it (tape/frames.py)."""
import lz4.frame
import pytest

from retrace_core.tape.errors import RecordingError
from retrace_core.tape.frames import decompress_frames, whole_frames

PIECES = [f"flush {index} ".encode() * (index % 50 + 1) for index in range(2_000)]
FRAMES = [lz4.frame.compress(piece) for piece in PIECES]
DATA = b"".join(FRAMES)


def test_thousands_of_frames_read_back_as_one_stream():
    assert decompress_frames(DATA, "t.bin") == (b"".join(PIECES), False)
    assert whole_frames(DATA) == DATA


def test_a_last_frame_cut_off_keeps_the_frames_before_it():
    cut = DATA[:len(DATA) - len(FRAMES[-1]) // 2]
    stream, truncated = decompress_frames(cut, "t.bin")
    assert truncated and stream.startswith(b"".join(PIECES[:-1]))
    assert whole_frames(cut) == b"".join(FRAMES[:-1])


def test_a_bad_frame_in_the_middle_is_a_corrupt_tape():
    middle = len(b"".join(FRAMES[:1_000]))
    broken = DATA[:middle] + b"\x00" * 40 + DATA[middle + 40:]
    with pytest.raises(RecordingError, match="corrupt tape"):
        decompress_frames(broken, "t.bin")
