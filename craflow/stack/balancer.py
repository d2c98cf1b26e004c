"""A loopback TCP load balancer in front of the stack's Prefect API servers.

Each client connection goes to the next backend in turn (round robin); a backend that
refuses the connection (a killed server) or does not accept it within the connect
timeout is skipped at once and the next one tried, so a dead server costs no client a
failed connect. Bytes are piped both ways unchanged, so HTTP keep-alive and websockets
(Prefect's events) pass. A connection whose backend dies is closed; Prefect's client
retries the request and lands on a live server.

For development only (`craflow stack up` with CRAFLOW_STACK_API_SERVERS > 1); in
production nginx or haproxy does this job.

    python -m craflow.stack.balancer --port 4200 --backend 4201 --backend 4202
"""

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Sequence

LOG = logging.getLogger("craflow.stack.balancer")
CHUNK = 64 * 1024
CONNECT_TIMEOUT_SECONDS = 2.0


class Balancer:
    """Round-robin TCP proxy on `host`:`port` (0 = a free port) over `backends`."""

    def __init__(
        self,
        backends: Sequence[tuple[str, int]],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        connect_timeout: float = CONNECT_TIMEOUT_SECONDS,
    ) -> None:
        if not backends:
            raise ValueError("the balancer needs at least one backend")
        self.backends = list(backends)
        self.host = host
        self.port = port
        self.connect_timeout = connect_timeout
        self.skipped = 0  # connects to a backend that failed (and were passed on)
        self._next = 0
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """Listen; `port` is the bound port afterwards."""
        self._server = await asyncio.start_server(
            self._accept, self.host, self.port, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def serve_forever(self) -> None:
        assert self._server is not None, "start() first"
        await self._server.serve_forever()

    async def close(self) -> None:
        """Stop listening and end every open connection."""
        if self._server is not None:
            self._server.close()
        for task in list(self._pipes):
            task.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        """A connection to the next backend that accepts one, trying each at most once."""
        first = self._next
        self._next = (self._next + 1) % len(self.backends)
        for offset in range(len(self.backends)):
            host, port = self.backends[(first + offset) % len(self.backends)]
            try:
                return await asyncio.wait_for(
                    asyncio.open_connection(host, port), self.connect_timeout
                )
            except (OSError, TimeoutError) as error:
                self.skipped += 1
                LOG.warning("backend %s:%s %s; next one", host, port, type(error).__name__)
        return None

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._pipes.add(task)
        try:
            backend = await self._connect()
            if backend is None:  # every backend refused: the client sees the connection close
                return
            back_reader, back_writer = backend
            upstream = asyncio.ensure_future(_pipe(reader, back_writer))
            try:  # the connection lasts until the backend's side ends (or either resets)
                await _pipe(back_reader, writer)
            finally:
                upstream.cancel()
                await asyncio.gather(upstream, return_exceptions=True)
                await _close(back_writer)
        except asyncio.CancelledError:  # close(): end quietly (asyncio logs a cancelled handler)
            pass
        finally:
            await _close(writer)
            self._pipes.discard(task)


async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    """Copy until end of stream, then half-close `sink`; a reset aborts `sink` so that
    its peer learns of it (and the other direction ends too)."""
    try:
        while data := await source.read(CHUNK):
            sink.write(data)
            await sink.drain()
        if sink.can_write_eof():
            sink.write_eof()
    except OSError:
        sink.transport.abort()


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()


async def _main(args: argparse.Namespace) -> None:
    balancer = Balancer(
        [(args.backend_host, port) for port in args.backend], host=args.host, port=args.port
    )
    await balancer.start()
    ports = ", ".join(str(port) for port in args.backend)
    LOG.info("balancer on %s:%s -> ports %s", args.host, balancer.port, ports)
    loop = asyncio.get_running_loop()
    serving = asyncio.ensure_future(balancer.serve_forever())
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, serving.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await serving
    await balancer.close()
    LOG.info("balancer stopped")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m craflow.stack.balancer", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0: a free one)")
    parser.add_argument("--backend-host", default="127.0.0.1", help="the backends' address")
    parser.add_argument(
        "--backend", type=int, action="append", required=True, help="a backend port (repeat)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(
        stream=sys.stdout, level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s"
    )
    asyncio.run(_main(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
