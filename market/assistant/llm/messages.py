"""The types every part of the assistant speaks: chat messages, tools, tool calls and a backend's reply.

A `ChatBackend` is anything that turns a conversation (and optionally tools or a JSON schema) into one
`ModelReply`: a local GGUF model run by llama.cpp or an OpenAI-compatible server. The agent depends only on
this protocol, so backends can be swapped (and scripted in tests) without touching it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol

import msgspec

Role = Literal["system", "user", "assistant", "tool"]


class ToolSpec(msgspec.Struct, frozen=True):
    """A tool the model may call; `parameters` is the JSON schema of its arguments (from msgspec.json.schema)."""

    name: str
    description: str
    parameters: dict


class ToolCall(msgspec.Struct, frozen=True):
    """A call the model asked for; `arguments` is parsed JSON, validated later by the agent."""

    name: str
    arguments: dict
    id: str = ""


class ChatMessage(msgspec.Struct, frozen=True, omit_defaults=True):
    """One message of a conversation; a `tool` message answers the call named by `tool_call_id`."""

    role: Role
    content: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str = ""
    name: str = ""


class ModelReply(msgspec.Struct, frozen=True):
    """What a backend produced for one request: text, tool calls (possibly none), which model, how long."""

    text: str
    tool_calls: tuple[ToolCall, ...]
    model: str
    latency_ms: float


class BackendError(Exception):
    """The backend failed: unreachable, an error status, or output that could not be made sense of."""


class ChatBackend(Protocol):
    """A chat model. `name` is "local:<gguf file name>" or "openai:<model>"."""

    name: str

    async def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        tools: Sequence[ToolSpec] = (),
        json_schema: dict | None = None,
        max_tokens: int = 256,
        temperature: float = 0.0,
    ) -> ModelReply:
        """One reply to `messages`.

        With `tools` the model may answer text or tool calls; with `json_schema` the reply text is JSON valid
        against that schema. Raises BackendError when the model cannot be reached or its output is unusable.
        """
        ...
