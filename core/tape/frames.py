"""The lz4 frame layer of a tape: a tape is a sequence of frames, one per flush."""
from __future__ import annotations

import lz4.frame

from retrace_core.tape.errors import RecordingError

LZ4_MAGIC = b"\x04\x22\x4d\x18"


def decompress_frames(data: bytes, name: str) -> tuple[bytes, bool]:
    """Concatenate the tape's lz4 frames; a cut-off last frame sets ``truncated``."""
    if data[:4] != LZ4_MAGIC:
        raise RecordingError(f"{name}: not a retrace tape")
    view = memoryview(data)
    chunks: list[bytes] = []
    truncated = False
    while view:
        decompressor = lz4.frame.LZ4FrameDecompressor()
        try:
            chunks.append(decompressor.decompress(view))
        except RuntimeError:
            if chunks and len(view) < 16:
                truncated = True  # the header of a frame that was being written
                break
            raise RecordingError(f"{name}: corrupt tape (bad lz4 frame after {len(data) - len(view)} bytes)")
        if not decompressor.eof:
            truncated = True
            break
        view = view[len(view) - len(decompressor.unused_data or b""):]
    return b"".join(chunks), truncated


def whole_frames(data: bytes) -> bytes:
    """``data`` up to the end of its last complete frame: a tape still being written,
    taken as it stands."""
    view = memoryview(data)
    while view:
        decompressor = lz4.frame.LZ4FrameDecompressor()
        try:
            decompressor.decompress(view)
        except RuntimeError:
            break
        if not decompressor.eof:
            break
        view = view[len(view) - len(decompressor.unused_data or b""):]
    return bytes(data[: len(data) - len(view)])
