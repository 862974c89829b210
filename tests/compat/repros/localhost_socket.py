"""Known limitation 5 (sockets not replayed at the documented commit): a localhost round trip."""
import socket

server = socket.create_server(("127.0.0.1", 0))
client = socket.create_connection(server.getsockname())
peer, _ = server.accept()
client.sendall(b"ping")
print(peer.recv(4))
for sock in (peer, client, server):
    sock.close()
