"""The session fixtures for local Twilio and Redis that core.testing.fixtures gives every suite."""

import redis

from core.testing.twilio_server import PHONE_NUMBER


def test_the_twilio_server_fixture_serves_the_sdk(twilio_server):
    twilio_server.reset()

    message = twilio_server.client().messages.create(to="+15551230001", from_=PHONE_NUMBER, body="Hello")

    assert [m.sid for m in twilio_server.messages] == [message.sid]
    assert twilio_server.base_url.startswith("http://127.0.0.1:")


def test_the_redis_server_fixture_serves_redis_py(redis_server):
    client = redis.Redis.from_url(redis_server.url, socket_timeout=2)
    try:
        assert client.ping() is True
        assert redis_server.url.startswith("redis://127.0.0.1:")
    finally:
        client.close()
