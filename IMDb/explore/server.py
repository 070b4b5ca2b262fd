"""Serving the explorer: uvicorn on a socket bound here (so a busy port is one line, and port 0 picks
a free one), quiet logs (warnings only, no access log), the URL printed, a browser opened.

Only the loopback address unless ``--host`` names another (then a warning: anyone who can reach it
sees the reviews; the token still guards every state-changing request and the Host check stays on).
"""
from __future__ import annotations

import socket
import sys
import threading
import webbrowser

from IMDb.errors import UsageError

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on `host`:`port`, refused in one line when it cannot be had."""
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError as e:
        raise UsageError(f"--host {host} --port {port}: cannot listen there ({e.strerror}); choose another "
                         f"--port (0 picks a free one)") from None
    return sock


WILDCARDS = ("0.0.0.0", "::")


def allowed_hosts(host: str) -> list[str]:
    """The Host header values the app answers to: this machine's loopback names and `host`; for a
    wildcard `host` (every interface), also this machine's own names and addresses. Never a name the
    machine does not have, which is what a DNS-rebinding page would send."""
    names = {*LOOPBACK, host}
    if host in WILDCARDS:
        names |= {socket.gethostname(), socket.getfqdn()}
        try:
            names |= {info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None)}
        except OSError:
            pass
    return sorted({f"[{n}]" if ":" in n else n for n in names})


def url(host: str, sock: socket.socket) -> str:
    port = sock.getsockname()[1]
    shown = "127.0.0.1" if host in WILDCARDS else (f"[{host}]" if ":" in host else host)
    return f"http://{shown}:{port}/"


def serve(app, sock: socket.socket, address: str, open_browser: bool) -> None:
    """Run `app` on `sock` until Ctrl-C; print `address` first and open it in a browser if asked."""
    import uvicorn

    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", server_header=False)
    print(address, flush=True)
    if open_browser:
        threading.Timer(0.5, webbrowser.open, [address]).start()
    uvicorn.Server(config).run(sockets=[sock])


def warn_if_exposed(host: str) -> None:
    if host not in LOOPBACK:
        print(f"explore: warning: serving on {host}, not only this machine: anyone who can reach it can read "
              f"the reviews and the models' outputs", file=sys.stderr, flush=True)
