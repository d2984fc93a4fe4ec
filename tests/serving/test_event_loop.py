"""The embedded server runs on uvloop, the event loop its benchmark figures were measured on."""

import asyncio

import uvloop

from serving import server


def test_run_uses_uvloop():
    async def loop_type():
        return type(asyncio.get_running_loop())

    assert server.run(loop_type()) is uvloop.Loop


def test_run_returns_the_result_and_cancels_leftover_tasks():
    leftover = {}

    async def main():
        leftover["task"] = asyncio.ensure_future(asyncio.sleep(3600))
        await asyncio.sleep(0)
        return 42

    assert server.run(main()) == 42
    assert leftover["task"].cancelled()


def test_background_server_loop_is_uvloop(tmp_path):
    from serving_helpers import server_options

    background = server.BackgroundServer(server_options(tmp_path / "polarity"))
    try:
        assert isinstance(background._loop, uvloop.Loop)
    finally:
        background._loop.close()
