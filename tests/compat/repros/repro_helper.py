"""A project module for source_finder_path.py (its text is stored in the recording)."""
X = 1
