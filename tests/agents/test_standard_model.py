"""LangChain's standard chat-model tests (langchain-tests), run on the offline order model.

The model is built as `agents.models.build_chat_model` builds it for `offline`; the
standard tests send it "Hello"-type messages, which it answers without a catalog (no
customer or product to find). What does not apply is switched off through the suite's
own capability properties, so those tests skip themselves with the suite's reason:

- tools (`has_tool_calling`): its tools are fixed (agents/tools.py) and `bind_tools`
  ignores the tools it is given, so it never calls the suite's `my_adder_tool`; with it
  go tool choice and structured output (`has_structured_output`, built on tool calls);
- model override (`supports_model_override`): there is one model, the rules, and no
  other model name to switch to per call;
- images, audio, PDF, JSON mode, Anthropic-style inputs: off by the suite's defaults;
  it reads text only.
"""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_tests.integration_tests import ChatModelIntegrationTests
from langchain_tests.unit_tests import ChatModelUnitTests

from agents.offline.model import OfflineOrderModel
from config import get_settings


class OfflineModelCapabilities:
    """What the offline model can do, in the standard suite's terms."""

    @property
    def chat_model_class(self) -> type[BaseChatModel]:
        return OfflineOrderModel

    @property
    def chat_model_params(self) -> dict[str, Any]:
        # What build_chat_model passes besides the catalog's customers and product names.
        return {"max_line_quantity": get_settings().max_line_quantity}

    @property
    def has_tool_calling(self) -> bool:
        return False  # only its own fixed tools: see the module docstring

    @property
    def supports_model_override(self) -> bool:
        return False  # one model: see the module docstring


class TestOfflineModelUnit(OfflineModelCapabilities, ChatModelUnitTests):
    pass


class TestOfflineModelIntegration(OfflineModelCapabilities, ChatModelIntegrationTests):
    pass


# The suite's async tests carry no asyncio mark (LangChain runs them in asyncio_mode
# "auto"); this project's pytest runs pytest-asyncio in strict mode, so mark them here.
# The functions are the suite's own: marking keeps them unoverridden.
for _name, _test in inspect.getmembers(ChatModelIntegrationTests, inspect.iscoroutinefunction):
    if _name.startswith("test_"):
        pytest.mark.asyncio(_test)
