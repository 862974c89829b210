"""`retrace-tui dap`: a Debug Adapter Protocol server for editors (VS Code, nvim-dap, ...).

On stdin/stdout by default, as editors start adapters; with ``--port N`` it listens on
127.0.0.1 and serves one client. Only DAP frames go to the client's stream: in the
stdin/stdout mode the real stdout is kept for them and file descriptor 1 is pointed at
stderr, so a stray print (ours or a worker's) cannot corrupt the protocol.
"""
from __future__ import annotations

import os
import sys

from retrace_tui.errors import UsageError


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "dap", help="debug recordings from an editor: a Debug Adapter Protocol server on stdin/stdout",
        description="Speaks the Debug Adapter Protocol on stdin/stdout (or on a TCP port), for VS Code, "
                    "nvim-dap and other DAP clients. See docs/editors.md.")
    parser.add_argument("--port", type=int, metavar="N",
                        help="listen on 127.0.0.1:N and serve one client instead of stdin/stdout "
                             "(0: a free port; the port is printed on stderr)")
    parser.add_argument("--write-vscode-extension", metavar="DIR",
                        help="write the VS Code extension into DIR (a folder and a .vsix for "
                             "code --install-extension) and exit")
    parser.set_defaults(run=run)


def run(args) -> int:
    if args.write_vscode_extension:
        from retrace_tui.dap.extension import write

        try:
            folder, vsix = write(args.write_vscode_extension)
        except OSError as exc:
            raise UsageError(f"dap: cannot write the extension into {args.write_vscode_extension}: "
                             f"{exc.strerror or exc}") from None
        print(f"wrote {folder}\nwrote {vsix}\ninstall it with: code --install-extension {vsix}")
        return 0
    if args.port is not None:
        return _serve_tcp(args.port)
    return _serve_stdio()


def _serve_stdio() -> int:
    from retrace_tui.dap.adapter import Adapter

    reading = os.fdopen(os.dup(0), "rb")
    writing = os.fdopen(os.dup(1), "wb")
    nothing = os.open(os.devnull, os.O_RDONLY)
    os.dup2(nothing, 0)  # workers and forks never read the client's requests
    os.close(nothing)
    os.dup2(2, 1)  # and never write into the client's stream
    Adapter(reading, writing).serve()
    return 0


def _serve_tcp(port: int) -> int:
    import socket

    from retrace_tui.dap.adapter import Adapter

    if not 0 <= port <= 65535:
        raise UsageError(f"dap: --port takes 0 to 65535, not {port}")
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        server.bind(("127.0.0.1", port))
    except OSError as exc:
        raise UsageError(f"dap: cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}") from None
    server.listen(1)
    print(f"retrace-tui dap: listening on 127.0.0.1:{server.getsockname()[1]}", file=sys.stderr, flush=True)
    try:
        connection, _address = server.accept()
    finally:
        server.close()
    with connection:
        reading, writing = connection.makefile("rb"), connection.makefile("wb")
        Adapter(reading, writing).serve()
        for stream in (reading, writing):
            try:
                stream.close()
            except OSError:
                pass
    return 0
