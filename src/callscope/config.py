"""Runtime configuration: one YAML file plus ``CALLSCOPE_*`` environment variables (12-factor).

Precedence: explicit arguments > environment > YAML file (``CALLSCOPE_CONFIG`` or
``--config``) > defaults. Validated at start; errors name the setting.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from callscope.yamlfile import YamlError, load_yaml_mapping


class ConfigError(Exception):
    """Configuration that cannot be used; ``str()`` is a one-line message."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CALLSCOPE_", extra="forbid", env_nested_delimiter="__"
    )

    data_dir: Path = Path(".callscope")
    profile: str = "pandadoc_trial"
    queue: Literal["sqlite", "redis", "sqs"] = "sqlite"
    queue_url: str | None = None  # sqlite path, redis://host:port/0, or an SQS queue URL
    store_url: str | None = None  # duckdb:///path.duckdb or postgresql://...
    raw_url: str | None = None  # directory or s3://bucket/prefix for original records
    archive_url: str | None = None
    ingest_token: str | None = None  # "name:token,name2:token2" or a single token
    max_body_bytes: int = 5 * 1024 * 1024
    rate_limit_per_minute: int = Field(default=6000, ge=1)
    visibility_timeout_s: float = Field(default=60.0, gt=0)
    worker_batch_size: int = Field(default=250, ge=1, le=10_000)
    livekit_api_key: str | None = None
    livekit_api_secret: str | None = None
    livekit_missing_grace_s: float = Field(default=300.0, gt=0)  # room ended, no record yet
    dashboard_password: str | None = None
    dashboard_auth: bool = True
    dashboard_pii_password: str | None = None  # logs in with the role that sees PII
    dashboard_tokens: str | None = None  # "name:role:token,..." (role viewer or pii)
    dashboard_secret: str | None = None  # cookie signing key; generated in data_dir if unset
    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: str = "INFO"
    sinks: dict[str, Any] | None = None  # the sinks: section; validated by callscope.sinks.config
    # Optional LLM backend for the judgement-heavy analyzers (callscope.llm, docs/llm.md).
    analysis_backend: Literal["offline", "anthropic", "openai"] = "offline"
    llm_model: str | None = None
    llm_base_url: str | None = None  # any OpenAI-compatible server: vLLM, Ollama, Azure...
    llm_api_key: str | None = None  # else ANTHROPIC_API_KEY / OPENAI_API_KEY
    llm_redact_pii: bool = True  # redact transcripts before they leave the network
    llm_timeout_s: float = Field(default=30.0, gt=0)
    llm_max_retries: int = Field(default=3, ge=0, le=10)

    @field_validator("data_dir")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()

    def resolved_queue_url(self) -> str:
        if self.queue_url:
            return self.queue_url
        if self.queue == "sqlite":
            return f"sqlite:///{self.data_dir / 'queue.sqlite3'}"
        raise ConfigError(f"queue={self.queue} needs CALLSCOPE_QUEUE_URL")

    def resolved_store_url(self) -> str:
        return self.store_url or f"duckdb:///{self.data_dir / 'warehouse.duckdb'}"

    def resolved_raw_url(self) -> str:
        return self.raw_url or str(self.data_dir / "raw")

    def resolved_archive_url(self) -> str:
        return self.archive_url or str(self.data_dir / "archive")

    def ingest_tokens(self) -> dict[str, str]:
        """Named bearer tokens (several at once, for rotation): ``{token: name}``."""
        if not self.ingest_token:
            return {}
        out: dict[str, str] = {}
        for i, part in enumerate(p.strip() for p in self.ingest_token.split(",")):
            if not part:
                continue
            name, sep, token = part.partition(":")
            out[token if sep else name] = name if sep else f"token{i + 1}"
        return out


def load_settings(config_file: str | Path | None = None, **overrides: Any) -> Settings:
    """Build settings from the YAML file, the environment and explicit overrides."""
    path = config_file or os.environ.get("CALLSCOPE_CONFIG")
    file_values: dict[str, Any] = {}
    if path:
        p = Path(path)
        if not p.is_file():
            raise ConfigError(f"{p}: config file not found")
        try:
            file_values = load_yaml_mapping(p, empty_ok=True)
        except YamlError as exc:
            raise ConfigError(str(exc)) from None
    try:
        # Environment beats the file: drop file keys that the environment sets.
        env_keys = {
            k[len("CALLSCOPE_") :].lower() for k in os.environ if k.startswith("CALLSCOPE_")
        }
        merged = {k: v for k, v in file_values.items() if k not in env_keys}
        merged.update({k: v for k, v in overrides.items() if v is not None})
        return Settings(**merged)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(x) for x in err["loc"])
        raise ConfigError(f"config: {err['msg']} at {where}") from None
