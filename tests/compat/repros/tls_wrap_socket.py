"""Issue 14 cause 5, still open (tornado iostream_test's TestIOStreamSSL*, trio test_ssl, anyio
streams/test_tls): TLS on a localhost socket.

verify and the engine stop at the first wrap: "replay cannot go past
ssl.SSLContext.wrap_socket: its I/O is not on the tape". No certificate needed to show it:
the client side wraps a connected socket without a handshake."""
import socket
import ssl

server = socket.create_server(("127.0.0.1", 0))
client = socket.create_connection(server.getsockname())
peer, _ = server.accept()
context = ssl.create_default_context()
wrapped = context.wrap_socket(client, server_hostname="localhost", do_handshake_on_connect=False)
print(wrapped.version())  # None: no handshake yet
for sock in (wrapped, peer, server):
    sock.close()
