"""Settings, read from the environment (``PRIVAULT_*``) only when someone asks.

Nothing reads settings at import time: the CLI builds a ``Settings`` and passes it to
factories (``make_engine(settings)``, ``create_app(settings)``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_HOME = Path("~/.privault")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PRIVAULT_", extra="ignore", frozen=True)

    home: Path = Field(default=DEFAULT_HOME, description="Data directory (SQLite + key file).")
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; overrides the embedded SQLite database "
        "(e.g. postgresql+psycopg://user@host/db).",
    )
    key_provider: Literal["file", "env"] = Field(
        default="file", description="Where the master keys come from."
    )
    key_file: Path | None = Field(default=None, description="Defaults to HOME/keys.json.")
    policy_path: Path | None = Field(default=None, description="Policy YAML file or directory.")
    fields_path: Path | None = Field(
        default=None, description="Customer field definitions (YAML); defaults to the shipped set."
    )
    taxonomy_extensions: tuple[Path, ...] = Field(
        default=(), description="Extra taxonomy YAML files with the organisation's own keys."
    )
    phone_regions: tuple[str, ...] = Field(
        default=("CZ", "PK", "GB", "US", "DE"),
        description="Regions tried, in order, for phone numbers written without +country.",
    )

    @field_validator("home", "key_file", "policy_path", "fields_path", mode="after")
    @classmethod
    def _expand(cls, value: Path | None) -> Path | None:
        return value.expanduser() if value is not None else None

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.home / 'privault.db'}"

    @property
    def effective_key_file(self) -> Path:
        return self.key_file if self.key_file is not None else self.home / "keys.json"

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")
