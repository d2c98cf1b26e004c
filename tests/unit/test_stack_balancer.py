"""The stack's loopback balancer on real sockets: round robin, a refusing backend skipped,
bytes both ways, clean shutdown."""

import asyncio
from collections.abc import Awaitable, Callable

from craflow.stack.balancer import Balancer
from craflow.stack.preflight import free_port

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def _named(name: bytes) -> Handler:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1)
        writer.write(name)
        writer.close()

    return answer


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while data := await reader.read(65536):
        writer.write(data)
        await writer.drain()
    writer.close()


async def _backend(handler: Handler) -> tuple[asyncio.Server, tuple[str, int]]:
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    return server, ("127.0.0.1", server.sockets[0].getsockname()[1])


async def _ask(port: int) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"?")
    answer = await reader.read()
    writer.close()
    await writer.wait_closed()
    return answer


def test_connections_take_turns_over_the_backends() -> None:
    async def scenario() -> list[bytes]:
        a, a_address = await _backend(_named(b"a"))
        b, b_address = await _backend(_named(b"b"))
        balancer = Balancer([a_address, b_address])
        await balancer.start()
        try:
            return [await _ask(balancer.port) for _ in range(4)]
        finally:
            await balancer.close()
            a.close()
            b.close()

    assert asyncio.run(scenario()) == [b"a", b"b", b"a", b"b"]


def test_a_refusing_backend_is_skipped_and_no_client_fails() -> None:
    async def scenario() -> tuple[list[bytes], int]:
        b, b_address = await _backend(_named(b"b"))
        dead = ("127.0.0.1", free_port("127.0.0.1"))  # nothing listens there
        balancer = Balancer([dead, b_address])
        await balancer.start()
        try:
            return [await _ask(balancer.port) for _ in range(3)], balancer.skipped
        finally:
            await balancer.close()
            b.close()

    answers, skipped = asyncio.run(scenario())
    assert answers == [b"b", b"b", b"b"]
    assert skipped == 2  # the 1st and 3rd connection tried the dead one first


def test_when_every_backend_refuses_the_client_sees_the_connection_close() -> None:
    async def scenario() -> bytes:
        balancer = Balancer([("127.0.0.1", free_port("127.0.0.1"))])
        await balancer.start()
        try:
            return await _ask(balancer.port)
        finally:
            await balancer.close()

    assert asyncio.run(scenario()) == b""


def test_bytes_pass_unchanged_both_ways_with_a_half_close() -> None:
    payload = bytes(range(256)) * 8192  # 2 MiB, more than any buffer

    async def scenario() -> bytes:
        echo, address = await _backend(_echo)
        balancer = Balancer([address])
        await balancer.start()
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", balancer.port)
            sending = asyncio.ensure_future(_send_all(writer, payload))
            received = await reader.read(-1)  # until the echo server closes after our EOF
            await sending
            writer.close()
            await writer.wait_closed()
            return received
        finally:
            await balancer.close()
            echo.close()

    assert asyncio.run(scenario()) == payload


async def _send_all(writer: asyncio.StreamWriter, payload: bytes) -> None:
    writer.write(payload)
    await writer.drain()
    writer.write_eof()


def test_close_ends_open_connections_and_stops_listening() -> None:
    errors: list[dict[str, object]] = []

    async def scenario() -> tuple[bytes, bool]:
        asyncio.get_running_loop().set_exception_handler(lambda _, context: errors.append(context))
        echo, address = await _backend(_echo)
        balancer = Balancer([address])
        await balancer.start()
        reader, writer = await asyncio.open_connection("127.0.0.1", balancer.port)
        writer.write(b"ping")
        assert await reader.readexactly(4) == b"ping"  # the connection is piped
        await balancer.close()
        rest = await reader.read()  # ended by the balancer: end of stream
        writer.close()
        try:
            await asyncio.open_connection("127.0.0.1", balancer.port)
            refused = False
        except OSError:
            refused = True
        echo.close()
        return rest, refused

    rest, refused = asyncio.run(scenario())
    assert rest == b""
    assert refused
    assert errors == []  # nothing logged by asyncio: the open connection ended quietly
