"""Settings, read from the environment (``PRIVAULT_*``) only when someone asks.

Nothing reads settings at import time: the CLI builds a ``Settings`` and passes it to
factories (``make_engine(settings)``, ``create_app(settings)``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
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
    public_base_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Public address of the privault web app; preference-centre links start here.",
    )
    preference_link_days: int = Field(
        default=30, ge=1, le=365, description="How long a preference-centre link stays valid."
    )
    smtp_host: str | None = Field(default=None, description="SMTP server for consent requests.")
    smtp_port: int = Field(default=25, ge=1, le=65535, description="SMTP server port.")
    smtp_from: str | None = Field(default=None, description="Sender address of consent requests.")
    smtp_starttls: bool = Field(
        default=False, description="Upgrade the SMTP connection with STARTTLS."
    )
    smtp_username: str | None = Field(
        default=None, description="SMTP login, if the server needs one."
    )
    smtp_password: SecretStr | None = Field(default=None, description="SMTP password.")

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
