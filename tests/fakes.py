"""A scripted tool-calling chat model: the one stand-in allowed in the agent-loop unit tests.

`ScriptedChatModel` has the shape of langgraph's own `FakeToolCallingModel`
(libs/prebuilt/tests/model.py): a real `BaseChatModel` whose `bind_tools` returns the
model itself. Each call returns the next entry of its script - an `AIMessage` (usually
with tool calls), or an exception to raise - and records the messages it was called
with, so a test can assert what the model saw (the system prompt with the current
`<draft>`, the `ToolMessage` a tool answered). `call()`, `calls_tools()` and `says()`
write script entries briefly.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, SystemMessage, ToolCall, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import Field


class ScriptExhausted(AssertionError):
    """The agent called the model more often than the test scripted."""


def call(name: str, **args: Any) -> ToolCall:
    """One tool call with a fresh id, as a provider would return it."""
    return ToolCall(name=name, args=args, id=f"call_{uuid.uuid4().hex[:12]}", type="tool_call")


def calls_tools(*tool_calls: ToolCall, content: str = "") -> AIMessage:
    """A model answer that calls these tools."""
    return AIMessage(content=content, tool_calls=list(tool_calls))


def says(text: str) -> AIMessage:
    """A model answer with text only (the turn ends)."""
    return AIMessage(content=text)


class ScriptedChatModel(BaseChatModel):
    """Answers each call with the next scripted `AIMessage`, or raises the scripted exception."""

    script: list[Any] = Field(default_factory=list)
    calls: list[list[BaseMessage]] = Field(default_factory=list)
    bound_tools: list[str] = Field(default_factory=list)
    index: int = 0

    @property
    def _llm_type(self) -> str:
        return "scripted-tool-calling"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> ScriptedChatModel:
        self.bound_tools = [getattr(tool, "name", None) or str(tool) for tool in tools]
        return self

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        self.calls.append(list(messages))
        if self.index >= len(self.script):
            raise ScriptExhausted(f"call {self.index + 1} but only {len(self.script)} scripted")
        entry = self.script[self.index]
        self.index += 1
        if isinstance(entry, BaseException):
            raise entry
        # A copy: the agent's middleware edits the message it is given.
        message = entry.model_copy(deep=True)
        return ChatResult(generations=[ChatGeneration(message=message)])

    # --- what the tests read ---------------------------------------------------------

    @property
    def remaining(self) -> int:
        """Scripted answers not used yet."""
        return len(self.script) - self.index

    def extend(self, *entries: AIMessage | BaseException) -> None:
        """Script more answers (for the next turn)."""
        self.script.extend(entries)

    def system_prompt(self, n: int = -1) -> str:
        """The system prompt of call `n` (default: the last call)."""
        first = self.calls[n][0]
        assert isinstance(first, SystemMessage), f"call {n} had no system prompt: {first!r}"
        return str(first.content)

    def tool_results(self, n: int = -1) -> dict[str, str]:
        """Tool name -> content of the ToolMessages that call `n` saw after its last AI turn."""
        results: dict[str, str] = {}
        for message in reversed(self.calls[n]):
            if not isinstance(message, ToolMessage):
                break
            results[message.name or message.tool_call_id] = str(message.content)
        return results
