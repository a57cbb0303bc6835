"""Chat backends: an OpenAI-compatible chat-completions server, and the choice between it and the local model.

`OpenAIBackend` speaks the chat-completions wire format over HTTP, so one class serves OpenAI itself, vLLM,
Ollama (`http://localhost:11434/v1`) and llama.cpp's servers: tools go out as function definitions (with
tool_choice "auto"), a JSON schema as `response_format` (in JSON mode for servers that refuse "json_schema"),
and tool calls come back parsed. Every failure (unreachable, error status, a body that is not a chat
completion, tool arguments that are not JSON) becomes a `BackendError` that says which server and why, so
the agent can fall back to its templated reply. tests/market/assistant/test_openai_server.py holds it to
llama-cpp-python's server.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any, Literal

import httpx
import msgspec

from market.assistant.llm.messages import (
    BackendError,
    ChatBackend,
    ChatMessage,
    ModelReply,
    ToolCall,
    ToolSpec,
)
from market.core.settings import Settings

# How much of an error body is quoted back in a BackendError: enough to read the server's reason.
_ERROR_EXCERPT_CHARS = 300


# The request, as the chat-completions API reads it.
class _WireFunctionCall(msgspec.Struct):
    name: str
    arguments: str  # JSON text, as the API carries it


class _WireToolCall(msgspec.Struct):
    id: str
    function: _WireFunctionCall
    type: Literal["function"] = "function"


class _WireMessage(msgspec.Struct, omit_defaults=True):
    role: str
    # Always a string, "" for an assistant message that only calls tools: the API takes "", null or no
    # content there, but llama-cpp-python's server fails without one (its chat template reads it: HTTP 500)
    # and refuses null (its request schema wants a string).
    content: str
    tool_calls: list[_WireToolCall] | None = None
    tool_call_id: str | None = None
    name: str | None = None


class _WireFunction(msgspec.Struct):
    name: str
    description: str
    parameters: dict


class _WireTool(msgspec.Struct):
    function: _WireFunction
    type: Literal["function"] = "function"


class _WireRequest(msgspec.Struct, omit_defaults=True):
    model: str
    messages: list[_WireMessage]
    max_tokens: int
    temperature: float
    tools: list[_WireTool] | None = None
    # "auto" said outright: it is OpenAI's default when tools are given, but llama-cpp-python's server reads
    # a missing tool_choice as "none" and never calls a tool.
    tool_choice: Literal["auto"] | None = None
    response_format: dict | None = None


# The answer. Only what the assistant uses is declared; everything else in the body is ignored.
class _AnswerFunctionCall(msgspec.Struct):
    name: str
    # A JSON string per the API; a few servers send the object itself.
    arguments: str | dict | None = None


class _AnswerToolCall(msgspec.Struct):
    function: _AnswerFunctionCall
    id: str | None = None


class _AnswerMessage(msgspec.Struct):
    content: str | None = None
    tool_calls: list[_AnswerToolCall] | None = None


class _AnswerChoice(msgspec.Struct):
    message: _AnswerMessage


class _Answer(msgspec.Struct):
    choices: list[_AnswerChoice]
    model: str | None = None


class _Refused(BackendError):
    """The server answered with an error status; `body` is what it said."""

    def __init__(self, message: str, body: str) -> None:
        super().__init__(message)
        self.body = body


class OpenAIBackend:
    """A model behind an OpenAI-compatible `/chat/completions` endpoint.

    `base_url` is the API root (`https://api.openai.com/v1`, `http://localhost:11434/v1`, ...). Without a
    `client` each call opens its own connection: a reply takes seconds, so the handshake does not matter, and
    the backend can be shared by event loops that come and go (tests, CLI). Pass a client to pool connections.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        model: str,
        timeout: float = 60.0,
        *,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.timeout = timeout
        self.name = f"openai:{model}"
        self._api_key = api_key
        self._client = client
        # The server refused response_format "json_schema" by name: schemas go in the older form from then on.
        self._schema_in_json_mode = False

    def __repr__(self) -> str:  # never shows the key
        return f"OpenAIBackend(base_url={self.base_url!r}, model={self.model!r})"

    async def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        tools: Sequence[ToolSpec] = (),
        json_schema: dict | None = None,
        max_tokens: int = 256,
        temperature: float = 0.0,
    ) -> ModelReply:
        """One chat completion; tool calls come back parsed, the text as the server wrote it."""
        request = _WireRequest(
            model=self.model,
            messages=[_to_wire(message) for message in messages],
            max_tokens=max_tokens,
            temperature=temperature,
            tools=[_WireTool(_WireFunction(t.name, t.description, t.parameters)) for t in tools] or None,
            tool_choice="auto" if tools else None,
            response_format=self._response_format(json_schema),
        )
        started = time.perf_counter()
        try:
            body = await self._post(msgspec.json.encode(request))
        except _Refused as refused:
            if json_schema is None or self._schema_in_json_mode or "response_format" not in refused.body:
                raise
            # Servers that predate "json_schema" (llama-cpp-python's) refuse it, naming the field, but take
            # JSON mode with the schema beside it, which is what they constrain decoding to.
            self._schema_in_json_mode = True
            request = msgspec.structs.replace(request, response_format=self._response_format(json_schema))
            body = await self._post(msgspec.json.encode(request))
        latency_ms = (time.perf_counter() - started) * 1000
        answer = self._decode(body)
        if not answer.choices:
            raise BackendError(f"{self._where}: the answer has no choices")
        message = answer.choices[0].message
        text = message.content or ""
        if json_schema is not None and not message.tool_calls:
            text = self._json_text(text)
        calls = tuple(self._tool_call(call) for call in message.tool_calls or ())
        return ModelReply(text=text, tool_calls=calls, model=self.name, latency_ms=latency_ms)

    @property
    def _where(self) -> str:
        return f"{self.name} at {self.base_url}"

    def _response_format(self, schema: dict | None) -> dict | None:
        if schema is None:
            return None
        if self._schema_in_json_mode:
            return {"type": "json_object", "schema": schema}
        # strict=False: strict mode demands every property be required and no extra keywords, which schemas
        # from msgspec (optional fields with defaults) do not meet; servers still constrain to the schema.
        return {"type": "json_schema", "json_schema": {"name": "reply", "schema": schema, "strict": False}}

    async def _post(self, payload: bytes) -> bytes:
        url = f"{self.base_url}/chat/completions"
        headers = {"content-type": "application/json"}
        if self._api_key:
            headers["authorization"] = f"Bearer {self._api_key}"
        try:
            if self._client is not None:
                response = await self._client.post(
                    url, content=payload, headers=headers, timeout=self.timeout
                )
            else:
                async with httpx.AsyncClient(timeout=self.timeout) as client:
                    response = await client.post(url, content=payload, headers=headers)
        except httpx.TimeoutException:
            raise BackendError(f"{self._where}: no answer within {self.timeout:g}s") from None
        except httpx.HTTPError as exc:
            raise BackendError(f"{self._where}: cannot be reached ({type(exc).__name__}: {exc})") from None
        if response.status_code >= 400:
            raise _Refused(
                f"{self._where}: HTTP {response.status_code}: {response.text[:_ERROR_EXCERPT_CHARS]}",
                response.text,
            )
        return response.content

    def _decode(self, body: bytes) -> _Answer:
        try:
            return msgspec.json.decode(body, type=_Answer)
        except msgspec.DecodeError as exc:
            excerpt = body[:_ERROR_EXCERPT_CHARS].decode("utf-8", "replace")
            raise BackendError(f"{self._where}: not a chat completion ({exc}): {excerpt}") from None

    def _tool_call(self, call: _AnswerToolCall) -> ToolCall:
        raw = call.function.arguments
        if raw is None or raw == "":
            arguments: Any = {}
        elif isinstance(raw, dict):
            arguments = raw
        else:
            try:
                arguments = _loads(_strip_code_fence(raw))
            except ValueError:
                raise BackendError(
                    f"{self._where}: arguments of {call.function.name!r} are not JSON: "
                    f"{raw[:_ERROR_EXCERPT_CHARS]}"
                ) from None
        if not isinstance(arguments, dict):
            raise BackendError(f"{self._where}: arguments of {call.function.name!r} are not a JSON object")
        return ToolCall(name=call.function.name, arguments=arguments, id=call.id or "")

    def _json_text(self, text: str) -> str:
        # Servers that honour response_format return bare JSON; others may wrap it in a code fence.
        try:
            value = _loads(_strip_code_fence(text))
        except ValueError:
            raise BackendError(f"{self._where}: asked for JSON, got: {text[:_ERROR_EXCERPT_CHARS]}") from None
        return json.dumps(value, ensure_ascii=False)  # strict JSON again, whatever the server's was


def backend_from_settings(settings: Settings) -> ChatBackend:
    """The backend the settings name. Cheap: the local model is loaded on first use, not here."""
    if settings.assistant_backend == "openai":
        # Settings refuse backend=openai without a base URL and a model; this guards direct construction.
        if not settings.openai_base_url or not settings.openai_model:
            raise BackendError("the openai backend needs AGORA_OPENAI_BASE_URL and AGORA_OPENAI_MODEL")
        return OpenAIBackend(
            settings.openai_base_url,
            settings.openai_api_key,
            settings.openai_model,
            settings.openai_timeout_seconds,
        )
    from market.assistant.llm.local import LocalBackend

    return LocalBackend(settings.llm_model_path, settings.llm_threads)


def _to_wire(message: ChatMessage) -> _WireMessage:
    calls = [
        _WireToolCall(id=call.id, function=_WireFunctionCall(call.name, json.dumps(call.arguments)))
        for call in message.tool_calls
    ]
    if message.role == "assistant" and calls:
        return _WireMessage(role="assistant", content=message.content, tool_calls=calls)
    if message.role == "tool":
        # The API's tool message carries no name: the call id ties it to its call.
        return _WireMessage(role="tool", content=message.content, tool_call_id=message.tool_call_id)
    return _WireMessage(role=message.role, content=message.content, name=message.name or None)


def _loads(text: str) -> Any:
    # strict=False: llama-cpp-python's JSON-schema grammars let raw control characters (a newline) into
    # strings, which strict JSON forbids; refusing the whole reply for one throws away a call that parses.
    return json.loads(text, strict=False)


def _strip_code_fence(text: str) -> str:
    stripped = text.strip()
    if stripped.startswith("```") and stripped.endswith("```"):
        stripped = stripped[3:-3]
        # drop a language tag such as "json" on the opening line
        first_line, _, rest = stripped.partition("\n")
        if rest and first_line.strip().isalpha():
            stripped = rest
    return stripped.strip()
