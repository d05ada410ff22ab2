"""Settings: defaults, URL normalisation, and one test per validation rule."""

from __future__ import annotations

import logging
import re
import subprocess
import sys
from pathlib import Path

import pytest

from config import PROJECT_ROOT, ConfigError, Settings, get_settings, load_settings


def config_error(monkeypatch: pytest.MonkeyPatch, **env: str) -> str:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    return str(caught.value)


def test_defaults_are_the_embedded_zero_setup_stack() -> None:
    settings = load_settings()
    assert settings.database_url == f"sqlite+pysqlite:///{PROJECT_ROOT / 'var' / 'orderdesk.db'}"
    assert settings.chroma_path == PROJECT_ROOT / "var" / "chroma"
    assert settings.llm_provider == "offline"
    assert (settings.db_pool_size, settings.db_max_overflow) == (10, 20)
    assert settings.api_keys == []


@pytest.mark.parametrize(
    "raw",
    ["postgresql://u:pw@db.example:5432/shop", "postgres://u:pw@db.example:5432/shop"],
)
def test_plain_postgres_urls_run_on_psycopg2(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv("DATABASE_URL", raw)
    assert load_settings().database_url == "postgresql+psycopg2://u:pw@db.example:5432/shop"


def test_relative_sqlite_path_is_taken_from_the_project_root(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", "sqlite:///var/other.db")
    assert load_settings().database_url.endswith(f"{PROJECT_ROOT}/var/other.db")


def test_unknown_scheme_is_refused_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    message = config_error(monkeypatch, DATABASE_URL="mysql://root:hunter2@localhost/shop")
    assert "DATABASE_URL: unknown scheme 'mysql'" in message
    assert "hunter2" not in message


def test_garbage_database_url_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    assert "DATABASE_URL: is not a database URL" in config_error(
        monkeypatch, DATABASE_URL="not a url"
    )


def test_postgres_url_without_database_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    assert "DATABASE_URL: names no database" in config_error(
        monkeypatch, DATABASE_URL="postgresql://u@localhost:5432"
    )


def test_in_memory_sqlite_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    assert "in-memory SQLite" in config_error(monkeypatch, DATABASE_URL="sqlite://")


def test_openai_provider_needs_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    message = config_error(monkeypatch, LLM_PROVIDER="openai")
    assert "LLM_PROVIDER=openai needs OPENAI_API_KEY" in message


def test_a_key_alone_selects_openai_and_an_explicit_offline_wins(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-0123456789")
    assert load_settings().llm_provider == "openai"
    monkeypatch.setenv("LLM_PROVIDER", "offline")
    assert load_settings().llm_provider == "offline"


def test_unknown_provider_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    assert "LLM_PROVIDER:" in config_error(monkeypatch, LLM_PROVIDER="anthropic")


def test_blank_key_in_env_file_counts_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "  ")
    assert load_settings().llm_provider == "offline"


@pytest.mark.parametrize("port", ["abc", "0", "70000"])
def test_chroma_port_must_be_a_tcp_port(monkeypatch: pytest.MonkeyPatch, port: str) -> None:
    assert "CHROMA_PORT:" in config_error(monkeypatch, CHROMA_PORT=port)


def test_base_url_must_be_http(monkeypatch: pytest.MonkeyPatch) -> None:
    assert "OPENAI_BASE_URL:" in config_error(monkeypatch, OPENAI_BASE_URL="localhost-ish")


def test_api_keys_are_comma_separated_and_long(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_KEYS", "first-key-0123456789, second-key-0123456789")
    keys = [key.get_secret_value() for key in load_settings().api_keys]
    assert keys == ["first-key-0123456789", "second-key-0123456789"]
    message = config_error(monkeypatch, API_KEYS="first-key-0123456789,short")
    assert "API_KEYS: every key must be at least 16 characters" in message
    assert "'short'" not in message and "first-key-0123456789" not in message


def test_log_level_is_case_insensitive_and_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_LEVEL", "debug")
    assert load_settings().log_level == "DEBUG"
    assert "LOG_LEVEL:" in config_error(monkeypatch, LOG_LEVEL="loud")


@pytest.mark.parametrize("value", ["0", "-3", "many"])
def test_max_line_quantity_must_be_positive(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    assert "MAX_LINE_QUANTITY:" in config_error(monkeypatch, MAX_LINE_QUANTITY=value)


@pytest.mark.parametrize("value", ["-1", "10081", "half an hour"])
def test_hold_minutes_is_checked(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    assert "HOLD_MINUTES:" in config_error(monkeypatch, HOLD_MINUTES=value)


def test_hold_minutes_defaults_to_half_an_hour() -> None:
    assert load_settings().hold_minutes == 30


def test_pool_size_must_be_positive(monkeypatch: pytest.MonkeyPatch) -> None:
    assert "DB_POOL_SIZE:" in config_error(monkeypatch, DB_POOL_SIZE="0")


def test_every_problem_is_reported_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    message = config_error(monkeypatch, CHROMA_PORT="x", DATABASE_URL="ftp://a/b")
    assert "CHROMA_PORT:" in message and "DATABASE_URL:" in message


def test_env_file_is_read_and_the_environment_wins(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("DEMO_CATALOG=superstore\nMAX_LINE_QUANTITY=50\nUNRELATED=1\n")
    monkeypatch.setenv("ORDERDESK_ENV_FILE", str(env_file))
    monkeypatch.setenv("MAX_LINE_QUANTITY", "70")
    settings = load_settings()
    assert settings.demo_catalog == "superstore"
    assert settings.max_line_quantity == 70


def test_get_settings_is_built_once() -> None:
    assert get_settings() is get_settings()


def test_secrets_never_appear_in_repr_str_or_logs(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    secrets = ["sk-live-abcdef0123456789", "api-key-zyxw98765432", "dbpass-s3cret"]
    monkeypatch.setenv("OPENAI_API_KEY", secrets[0])
    monkeypatch.setenv("API_KEYS", secrets[1])
    monkeypatch.setenv("DATABASE_URL", f"postgresql://orders:{secrets[2]}@127.0.0.1:1/x")
    caplog.set_level(logging.DEBUG)
    settings = load_settings()
    logging.getLogger("test").info("settings: %s %r", settings, settings)
    shown = "\n".join([repr(settings), str(settings), settings.database_url_safe, caplog.text])
    for secret in secrets:
        assert secret not in shown
    assert settings.openai_api_key is not None
    assert settings.openai_api_key.get_secret_value() == secrets[0]


def test_a_bad_configuration_stops_the_cli_with_one_clear_message(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "ORDERDESK_ENV_FILE": "", "CHROMA_PORT": "eighty"}
    result = subprocess.run(
        [sys.executable, "-m", "db.seed"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "CHROMA_PORT: Input should be a valid integer" in result.stderr
    assert "Traceback" not in result.stderr


def test_env_example_lists_every_setting_and_loads_as_is(monkeypatch: pytest.MonkeyPatch) -> None:
    example = PROJECT_ROOT / ".env.example"
    listed = set(re.findall(r"^([A-Z_0-9]+)=", example.read_text(), re.MULTILINE))
    assert listed == {name.upper() for name in Settings.model_fields}
    monkeypatch.setenv("ORDERDESK_ENV_FILE", str(example))
    assert load_settings() == Settings(_env_file=None)  # the example shows the defaults
