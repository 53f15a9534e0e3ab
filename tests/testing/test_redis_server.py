"""The throwaway redis-server, driven through redis-py as the Redis queue backend drives it."""

import pytest
import redis

from core.testing.redis_server import ThrowawayRedis


@pytest.fixture(scope="module")
def server():
    instance = ThrowawayRedis().start()
    yield instance
    instance.stop()


def connect(server):
    return redis.Redis.from_url(server.url, socket_timeout=2, socket_connect_timeout=2)


def test_it_answers_on_its_loopback_url(server):
    client = connect(server)

    assert server.url == f"redis://127.0.0.1:{server.port}/0"
    assert client.ping() is True
    client.set("greeting", "hello")
    assert client.get("greeting") == b"hello"
    client.close()


def test_it_keeps_nothing_on_disk(server):
    client = connect(server)

    assert client.config_get("save") == {"save": ""}
    assert client.config_get("appendonly") == {"appendonly": "no"}
    assert client.config_get("bind")["bind"] == "127.0.0.1"
    client.close()


def test_a_killed_server_is_an_outage_and_a_restart_ends_it_on_the_same_url(server):
    client = connect(server)
    client.set("queued", "1")
    url = server.url

    server.kill()

    assert not server.running and not server.ping()
    with pytest.raises(redis.ConnectionError):
        client.get("queued")

    server.restart()

    assert server.url == url
    # The same client reconnects by itself; the data went with the crash.
    assert client.get("queued") is None
    client.close()


def test_restart_of_a_running_server_starts_it_afresh(server):
    client = connect(server)
    client.set("k", "v")

    server.restart()

    assert server.running
    assert client.get("k") is None
    client.close()


def test_stop_ends_the_process_and_removes_its_directory():
    with ThrowawayRedis() as instance:
        directory = instance.dir
        assert instance.ping()
    assert not instance.running and not instance.ping()
    assert not directory.exists()


def test_start_twice_is_refused(server):
    with pytest.raises(RuntimeError, match="already running"):
        server.start()
