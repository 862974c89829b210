"""The tape: the on-disk form of a recording (format, codec, writer, reader, archive)."""
