"""The chat-completions framing shared by the chat services: chunks, the event stream, broken answers."""
from __future__ import annotations

import json
from typing import Iterator

from dubber.emulator import chat
from dubber.emulator.service import Reply

ENV = chat.Envelope("abc", 1700000000, "some-model")


class Hello:
    """A chat answer of three deltas."""

    def message(self) -> dict:
        return chat.message("Hello world", None)

    def deltas(self) -> Iterator[dict]:
        yield chat.delta("", "assistant")
        yield chat.delta("Hello")
        yield chat.delta(" world")

    def usage(self) -> dict:
        return chat.token_usage(1000, "Hello world", 0)


def events(reply: Reply) -> list[str]:
    return b"".join(reply.pieces).decode().split("\n\n")


def test_a_stream_is_deltas_finish_usage_then_done():
    reply = chat.reply(ENV, Hello(), stream=True, include_usage=True, broken=False)
    sent = events(reply)
    assert reply.content_type == "text/event-stream" and reply.length is None and reply.complete
    assert sent[-2:] == ["data: [DONE]", ""]
    chunks = [json.loads(e.removeprefix("data: ")) for e in sent[:-2]]
    assert [c["choices"][0]["delta"]["content"] for c in chunks[:4]] == ["", "Hello", " world", None]
    assert chunks[3]["choices"][0]["finish_reason"] == "stop" and chunks[4]["choices"] == []
    assert chunks[4]["usage"]["prompt_tokens"] == 25 and chunks[4]["usage"]["completion_tokens"] == 2
    assert {c["id"] for c in chunks} == {"chatcmpl-abc"} and {c["created"] for c in chunks} == {1700000000}


def test_a_broken_stream_sends_half_the_content_and_no_end():
    reply = chat.reply(ENV, Hello(), stream=True, include_usage=True, broken=True)
    sent = events(reply)
    assert not reply.complete and sent[-1] == "" and len(sent) == 2  # 3 content chunks: the first one
    assert json.loads(sent[0].removeprefix("data: "))["choices"][0]["delta"]["role"] == "assistant"


def test_a_plain_answer_and_its_cut_version():
    whole = chat.reply(ENV, Hello(), stream=False, include_usage=False, broken=False)
    cut = chat.reply(ENV, Hello(), stream=False, include_usage=False, broken=True)
    (data,), (half,) = whole.pieces, cut.pieces
    completion = json.loads(data)
    assert completion["object"] == "chat.completion" and completion["choices"][0]["message"]["content"] == "Hello world"
    assert whole.length == cut.length == len(data) and whole.complete and not cut.complete
    assert half == data[: len(data) // 2]
