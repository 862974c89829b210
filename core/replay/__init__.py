"""Replay: the recorded program runs again, every boundary call answered from the tape."""
