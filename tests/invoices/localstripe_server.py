"""Run localstripe on 127.0.0.1 and a free port (printed on the first line of stdout).

localstripe's own entry point listens on every interface at a fixed port and pickles its
store to a shared /tmp file; the suite needs neither.
"""

import socket

from aiohttp import web
from localstripe.resources import Store
from localstripe.server import app

Store.dump_to_disk = lambda self: None  # keep the store in memory only

sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
sock.bind(("127.0.0.1", 0))
print(sock.getsockname()[1], flush=True)  # noqa: T201 - the port, for the suite
web.run_app(app, sock=sock, print=None, access_log=None)
