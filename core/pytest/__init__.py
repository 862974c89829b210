"""pytest without a plugin for the user to add: markers for each test, in the tape."""
