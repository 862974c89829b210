"""Known limitation 4: output that shows an object's address (pytest's failure reports)."""
print(object())
