"""Typed settings for the reference app. Nothing here is read at import time."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="APP_", env_file=None, extra="ignore")

    database_url: str = "postgresql+psycopg://postgres@127.0.0.1:5432/app"
    db_pool_size: int = 20
    db_max_overflow: int = 40
    db_statement_timeout_ms: int = 15_000
    db_ping_idle_s: float = Field(
        default=10.0, description="ping a pooled connection at checkout after this long idle"
    )
    db_pool_recycle_s: int = Field(default=1800, description="replace connections this old")

    jwt_secret: SecretStr = SecretStr("dev-only-jwt-secret-change-me-0123456789")
    jwt_algorithm: str = "HS256"
    jwt_ttl_s: int = 3600
    admin_emails: list[str] = Field(
        default_factory=list, description="emails that become admins when they register"
    )

    # argon2id cost; the defaults are argon2-cffi's RFC 9106 "low memory" profile.
    # Tests lower them (time_cost=1, memory_cost=8, parallelism=1) to stay fast.
    argon2_time_cost: int = 3
    argon2_memory_cost: int = 65_536
    argon2_parallelism: int = 4

    gateway_base_url: str = "http://127.0.0.1:9001"
    gateway_key_id: str = "rzp_test_harness"
    gateway_key_secret: SecretStr = SecretStr("harness_key_secret")
    webhook_secret: SecretStr = SecretStr("harness_webhook_secret")
    gateway_timeout_s: float = 5.0

    provider_base_url: str = "http://127.0.0.1:9002"
    provider_token: SecretStr = SecretStr("harness_provider_token")
    provider_timeout_s: float = 10.0

    worker_enabled: bool = True
    worker_poll_interval_s: float = 1.0
    worker_batch_size: int = 10
    provision_max_attempts: int = 5
    provision_backoff_base_s: float = 0.5
    provision_backoff_max_s: float = 60.0
    server_term_days: int = Field(default=30, description="days of service per billing month")

    log_json: bool = True
    log_level: str = "INFO"
