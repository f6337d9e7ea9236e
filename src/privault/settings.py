"""Settings, read from the environment (``PRIVAULT_*``) only when someone asks.

Nothing reads settings at import time: the CLI builds a ``Settings`` and passes it to
factories (``make_engine(settings)``, ``create_app(settings)``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from privault.calendar import INCIDENT_NOTIFICATION_HOURS

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
    api_threads: int = Field(
        default=40,
        ge=1,
        le=512,
        description="Threads per API worker for blocking work (database, crypto).",
    )
    database_pool_size: int = Field(
        default=20,
        ge=1,
        le=1000,
        description=(
            "Database connections each process keeps open.  Size it to the requests "
            "an API worker runs at once: on PostgreSQL a connection opened beyond it "
            "is closed again after use, and opening one costs the server a process."
        ),
    )
    database_max_overflow: int = Field(
        default=20,
        ge=0,
        le=1000,
        description="Connections a process may open beyond the pool size at busy moments.",
    )
    statement_timeout_seconds: float | None = Field(
        default=None,
        gt=0,
        le=86_400,
        description=(
            "PostgreSQL: cancel any statement running longer than this.  The API sets it "
            "to its request time limit, so a query of a request that timed out stops too."
        ),
    )
    sqlite_checkpoint_interval_seconds: float | None = Field(
        default=None,
        gt=0,
        le=3600,
        description=(
            "SQLite: checkpoint the WAL from a background thread this often, instead of "
            "inside whichever commit crosses SQLite's threshold.  The API sets 0.2."
        ),
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

    # -- incidents (R7) ----------------------------------------------------------------
    incident_compliance_emails: tuple[str, ...] = Field(
        default=(), description="Compliance team addresses for new incidents and deadline warnings."
    )
    incident_compliance_language: Literal["en", "cs", "ur"] = Field(
        default="en", description="Language of the e-mails and webhooks sent to compliance."
    )
    incident_webhook_urls: tuple[str, ...] = Field(
        default=(), description="Webhook URLs that receive incident events as signed JSON POSTs."
    )
    incident_webhook_secret: SecretStr | None = Field(
        default=None, description="HMAC-SHA256 key that signs webhook bodies."
    )
    incident_webhook_secret_file: Path | None = Field(
        default=None, description="File holding the webhook HMAC key (instead of the value)."
    )
    incident_webhook_attempts: int = Field(
        default=5, ge=1, le=20, description="Webhook delivery attempts before giving up."
    )
    incident_webhook_backoff_seconds: float = Field(
        default=0.5, ge=0, le=60, description="First retry delay; doubles on every retry."
    )
    incident_webhook_timeout_seconds: float = Field(
        default=5.0, gt=0, le=60, description="Time limit of one webhook request."
    )
    incident_deadline_hours: int = Field(
        default=INCIDENT_NOTIFICATION_HOURS,
        ge=1,
        le=720,
        description="Hours from awareness to notify the authority.",
    )
    incident_warning_hours: tuple[int, ...] = Field(
        default=(24, 12, 4), description="Warn compliance when this many hours are left."
    )
    incident_baseline_days: int = Field(
        default=30, ge=7, le=365, description="Days of history in a principal's volume baseline."
    )
    incident_volume_factor: float = Field(
        default=3.0, ge=1, description="Volume alarm: this many times the daily mean..."
    )
    incident_volume_sigmas: float = Field(
        default=4.0, ge=0, description="...and this many standard deviations above it..."
    )
    incident_volume_min_records: int = Field(
        default=500, ge=1, description="...and never below this many records in 24 hours."
    )
    incident_denied_burst: int = Field(
        default=20, ge=2, description="Denied requests by one principal that make a burst..."
    )
    incident_denied_window_minutes: int = Field(
        default=10, ge=1, le=1440, description="...within this many minutes."
    )
    incident_jurisdiction: Literal["CZ", "PK"] = Field(
        default="CZ",
        description="Jurisdiction profile whose working days count review deadlines.",
    )
    incident_review_working_days: int = Field(
        default=5, ge=1, le=60, description="Working days to review a prevented attempt."
    )
    incident_investigation_hours: int = Field(
        default=24, ge=1, le=720, description="Hours to investigate a suspected breach."
    )
    incident_velocity_customers: int = Field(
        default=300,
        ge=1,
        description="Distinct customers one principal may read within the velocity window.",
    )
    incident_velocity_window_seconds: int = Field(
        default=60, ge=6, le=86400, description="The velocity window, in seconds."
    )
    incident_velocity_role_customers: dict[str, int] = Field(
        default_factory=dict,
        description="Per-role velocity baselines (role name -> distinct customers).",
    )
    incident_change_principals: tuple[str, ...] = Field(
        default=(),
        description="Principals besides the compliance role allowed to change keys or policy.",
    )
    incident_contact_name: str = Field(
        default="", description="Contact point named in authority notices (DPO or team)."
    )
    incident_contact_email: str = Field(default="", description="Contact point's e-mail.")
    incident_contact_phone: str = Field(default="", description="Contact point's phone.")
    incident_controller_name: str = Field(
        default="", description="The controller (company) named in authority notices."
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
