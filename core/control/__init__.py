"""The time-travel engine's control side: workers, snapshots and navigation verbs."""
