"""One module per command of the CLI; each has ``add_parser(subparsers)`` and ``run(args)``."""
