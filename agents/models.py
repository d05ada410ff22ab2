"""Chat models by provider: the one place a chat model is created.

`offline` is the built-in deterministic order model (no network, no key; the default
when no OpenAI key is configured). `openai` is ChatOpenAI, pointed by OPENAI_BASE_URL at
any OpenAI-compatible server (OpenAI itself, vLLM, Ollama, llama.cpp), with the timeout
and retries from settings.
"""

from __future__ import annotations

from typing import Any

from langchain_core.language_models import BaseChatModel

from config import Settings


def build_chat_model(
    settings: Settings,
    *,
    provider: str | None = None,
    customers: Any = None,
    product_names: Any = None,
) -> BaseChatModel:
    """The chat model for `provider` (default: LLM_PROVIDER). `customers` feeds the offline one."""
    provider = provider or settings.llm_provider
    if provider == "openai":
        from langchain_openai import ChatOpenAI

        if settings.openai_api_key is None:
            raise ValueError("LLM_PROVIDER=openai needs OPENAI_API_KEY")
        return ChatOpenAI(
            model=settings.openai_model,
            api_key=settings.openai_api_key,
            base_url=str(settings.openai_base_url) if settings.openai_base_url else None,
            temperature=settings.openai_temperature,
            timeout=settings.llm_timeout_s,
            max_retries=settings.llm_max_retries,
        )
    if provider == "offline":
        from agents.offline.model import OfflineOrderModel

        return OfflineOrderModel(
            customers=customers,
            product_names=product_names,
            max_line_quantity=settings.max_line_quantity,
        )
    raise ValueError(f"unknown chat model provider {provider!r} (offline or openai)")


def describe_model(model: BaseChatModel) -> str:
    """A short label for the UI: "offline" or the model name."""
    return str(getattr(model, "model_name", None) or getattr(model, "model", "") or "unknown")
