"""Settings: every environment variable Order Desk reads, typed and validated in one place.

Values come from the process environment first, then from `.env` in the project root.
`get_settings()` builds them once per process; a bad value stops the program at start
with a `ConfigError` naming the variable and what is wrong (never its secret value).
`.env.example` lists every field below with a comment.
"""

from __future__ import annotations

import logging
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AnyHttpUrl,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

PROJECT_ROOT = Path(__file__).resolve().parent
VAR_DIR = PROJECT_ROOT / "var"

# Schemes a user may write, and the driver each one runs on. A bare postgresql:// would
# mean psycopg 3 under SQLAlchemy 2.1; we ship psycopg2, so plain URLs are pinned to it.
_DRIVERS = {
    "sqlite": "sqlite+pysqlite",
    "sqlite+pysqlite": "sqlite+pysqlite",
    "postgres": "postgresql+psycopg2",
    "postgresql": "postgresql+psycopg2",
    "postgresql+psycopg2": "postgresql+psycopg2",
}

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


class ConfigError(RuntimeError):
    """Raised once at start when the configuration cannot be used; the message is for people."""


def normalize_database_url(raw: str) -> str:
    """Return `raw` with an explicit, installed driver and an absolute SQLite path.

    Relative SQLite paths are taken from the project root, so the app finds the same
    file whichever directory it is started from.
    """
    try:
        url = make_url(raw.strip())
    except ArgumentError:
        raise ValueError(
            "is not a database URL (expected sqlite:///path/to/file.db or "
            "postgresql://user:password@host:5432/dbname)"
        ) from None
    driver = _DRIVERS.get(url.drivername)
    if driver is None:
        raise ValueError(
            f"unknown scheme {url.drivername!r} (supported: sqlite:///path/to/file.db, "
            "postgresql://user:password@host:5432/dbname)"
        )
    url = url.set(drivername=driver)
    if driver.startswith("sqlite"):
        url = _absolute_sqlite(url)
    elif not url.database:
        raise ValueError("names no database (add /dbname after the host)")
    return url.render_as_string(hide_password=False)


def _absolute_sqlite(url: URL) -> URL:
    if not url.database or url.database == ":memory:":
        raise ValueError(
            "in-memory SQLite cannot be shared by the app's threads; give a file path "
            "such as sqlite:///var/orderdesk.db"
        )
    if url.database.startswith("file:"):
        return url
    path = Path(url.database).expanduser()
    if not path.is_absolute():
        path = PROJECT_ROOT / path
    return url.set(database=str(path))


class Settings(BaseSettings):
    """Order Desk configuration. Field names are the environment variable names."""

    model_config = SettingsConfigDict(
        env_file=PROJECT_ROOT / ".env",
        env_file_encoding="utf-8",
        case_sensitive=False,
        extra="ignore",
        validate_default=True,
    )

    # Relational store
    database_url: str = Field(default="sqlite:///var/orderdesk.db", repr=False)
    db_pool_size: int = Field(default=10, ge=1, le=200)
    db_max_overflow: int = Field(default=20, ge=0, le=500)
    db_pool_timeout: float = Field(default=30.0, gt=0)
    db_pool_recycle: int = Field(default=1800, ge=-1)
    sqlite_busy_timeout_ms: int = Field(default=30_000, ge=0)
    # How long a turn waits for another turn of the same conversation (a double submit,
    # a second tab, another replica) before answering "busy" (the API's 409).
    thread_lock_wait_s: float = Field(default=30.0, gt=0, le=600)
    # Turns one process runs at once (PostgreSQL: each holds one lock connection, beside
    # the engine's pool); more wait their turn. Turns are CPU-bound under one GIL, so a
    # few suffice - more processes, not more threads, add throughput.
    max_concurrent_turns: int = Field(default=10, ge=1, le=200)
    db_echo: bool = False

    # Vector store
    chroma_path: Path = VAR_DIR / "chroma"
    chroma_host: str | None = None
    chroma_port: int = Field(default=8000, ge=1, le=65535)
    chroma_ssl: bool = False
    chroma_timeout_s: float = Field(default=10.0, gt=0)
    embedding_batch_size: int = Field(default=64, ge=1, le=4096)
    embedding_threads: int = Field(default=0, ge=0, le=256)

    # Chat model
    llm_provider: Literal["offline", "openai"] | None = None
    openai_api_key: SecretStr | None = None
    openai_base_url: AnyHttpUrl | None = None
    openai_model: str = Field(default="gpt-4o-mini", min_length=1)
    openai_temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    llm_timeout_s: float = Field(default=60.0, gt=0)
    llm_max_retries: int = Field(default=2, ge=0, le=10)

    # HTTP API
    api_keys: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list, repr=False)
    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8001, ge=1, le=65535)
    # Demo mode: the API runs without keys (only with API_KEYS empty, on a loopback host).
    api_auth_disabled: bool = False

    # Streamlit UI: who may open the Admin pages (Memory, Prompt lab) and re-index the
    # catalog when sign-in is configured; in demo mode (no sign-in) everyone may.
    admin_emails: Annotated[list[str], NoDecode] = Field(default_factory=list)

    # Orders and operations
    max_line_quantity: int = Field(default=10_000, ge=1, le=1_000_000)
    # How far ahead a requested delivery date may be; a later one is refused as a typo.
    max_delivery_days_ahead: int = Field(default=365, ge=1, le=3650)
    # How long an open draft holds its lines' stock after its last change; other drafts
    # see that stock as taken until then. 0 turns holds off (stock is taken at confirm).
    hold_minutes: int = Field(default=30, ge=0, le=7 * 24 * 60)
    demo_catalog: Literal["northwind", "superstore"] = "northwind"
    log_level: LogLevel = "INFO"

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        return normalize_database_url(value)

    @field_validator("chroma_path")
    @classmethod
    def _chroma_path(cls, value: Path) -> Path:
        value = value.expanduser()
        return value if value.is_absolute() else PROJECT_ROOT / value

    @field_validator(
        "chroma_host", "openai_base_url", "openai_api_key", "llm_provider", mode="before"
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        # `FOO=` in a .env file means "not set", not "set to the empty string".
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("api_keys", "admin_emails", mode="before")
    @classmethod
    def _split_keys(cls, value: object) -> object:
        if isinstance(value, str):
            return [key.strip() for key in value.split(",") if key.strip()]
        return value

    @field_validator("api_keys")
    @classmethod
    def _keys_long_enough(cls, keys: list[SecretStr]) -> list[SecretStr]:
        if any(len(key.get_secret_value()) < 16 for key in keys):
            raise ValueError("every key must be at least 16 characters long")
        return keys

    @field_validator("admin_emails")
    @classmethod
    def _emails(cls, emails: list[str]) -> list[str]:
        bad = [email for email in emails if not re.fullmatch(r"[^@\s]+@[^@\s]+", email)]
        if bad:
            raise ValueError(f"not an e-mail address: {', '.join(bad)}")
        return [email.lower() for email in emails]

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _resolve_provider(self) -> Settings:
        if self.llm_provider is None:
            self.llm_provider = "openai" if self.openai_api_key else "offline"
        if self.llm_provider == "openai" and self.openai_api_key is None:
            raise ValueError(
                "LLM_PROVIDER=openai needs OPENAI_API_KEY (any non-empty value for a "
                "local OpenAI-compatible server), or set LLM_PROVIDER=offline"
            )
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def database_url_safe(self) -> str:
        """The database URL with its password masked, for logs and the UI."""
        return make_url(self.database_url).render_as_string(hide_password=True)


def _describe(error: ValidationError) -> str:
    lines = []
    for item in error.errors(include_input=False, include_url=False):
        message = item["msg"].removeprefix("Value error, ")
        # Errors from the model validator have no location; their message names the variable.
        prefix = f"{str(item['loc'][0]).upper()}: " if item["loc"] else ""
        lines.append(f"  {prefix}{message}")
    return "Invalid configuration (environment or .env):\n" + "\n".join(lines)


def load_settings(**overrides: object) -> Settings:
    """Build Settings from the environment, raising ConfigError with a readable message."""
    # ORDERDESK_ENV_FILE picks another .env file ("" for none: the tests use that).
    env_file = os.environ.get("ORDERDESK_ENV_FILE", str(PROJECT_ROOT / ".env"))
    try:
        return Settings(_env_file=env_file or None, **overrides)  # type: ignore[call-arg]
    except ValidationError as error:
        raise ConfigError(_describe(error)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide Settings, built on first use."""
    return load_settings()


def configure_logging(settings: Settings | None = None) -> None:
    """Set the root log level and format once, from LOG_LEVEL."""
    level = (settings or get_settings()).log_level
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger().setLevel(level)
