"""Starting a recorded process: command line, hash seed, the `.pth` hook, the recorder."""
