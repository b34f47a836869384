"""Process settings, read from the environment and `.env` (never from code)."""

from __future__ import annotations

from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Every enumerated setting is a Literal: a value outside it fails when the settings load,
# with the allowed values in the message.
SpeechProvider = Literal["local", "openai", "instant"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


class Settings(BaseSettings):
    """Every setting of the bridge; each field is an environment variable of the same name."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    # Where Twilio reaches us: the scheme and host Twilio signs requests with.
    public_base_url: str = Field(default="", alias="PUBLIC_BASE_URL")
    bridge_host: str = Field(default="127.0.0.1", alias="BRIDGE_HOST")
    bridge_port: int = Field(default=8080, alias="BRIDGE_PORT")
    dialplans_dir: Path = Field(default=Path("dialplans"), alias="DIALPLANS_DIR")
    data_dir: Path = Field(default=Path("var"), alias="BRIDGE_DATA_DIR")
    # Empty: call records go to SQLite under data_dir; else a PostgreSQL DSN.
    database_url: SecretStr = Field(default=SecretStr(""), alias="DATABASE_URL")

    twilio_account_sid: str = Field(default="", alias="TWILIO_ACCOUNT_SID")
    twilio_auth_token: SecretStr = Field(default=SecretStr(""), alias="TWILIO_AUTH_TOKEN")
    # Empty means the real Twilio API; the simulator points this at its local fake.
    twilio_api_base_url: str = Field(default="", alias="TWILIO_API_BASE_URL")
    # Development only: accept unsigned webhooks and media sockets (logged loudly).
    twilio_skip_signature: bool = Field(default=False, alias="TWILIO_SKIP_SIGNATURE")

    # Bearer token for /api; without it /api answers loopback clients only.
    admin_token: SecretStr = Field(default=SecretStr(""), alias="BRIDGE_ADMIN_TOKEN")
    # Proxies (addresses or networks, comma-separated) whose X-Forwarded-For and
    # X-Forwarded-Proto are believed: the client's address and whether it used https.
    trusted_proxies: str = Field(default="", alias="TRUSTED_PROXIES")

    # The web console at /console: off unless a token or a user and password are set.
    console_token: SecretStr = Field(default=SecretStr(""), alias="CONSOLE_TOKEN")
    console_user: str = Field(default="", alias="CONSOLE_USER")
    console_password: SecretStr = Field(default=SecretStr(""), alias="CONSOLE_PASSWORD")
    # Signs console session cookies; empty: a random key per process (restarts log out).
    console_secret: SecretStr = Field(default=SecretStr(""), alias="CONSOLE_SECRET")

    # Speech: "local" (faster-whisper + piper) or "openai"; "instant" is for benchmarks of the
    # bridge itself (fixed words, a tone, no model).
    stt_provider: SpeechProvider = Field(default="local", alias="STT_PROVIDER")
    tts_provider: SpeechProvider = Field(default="local", alias="TTS_PROVIDER")
    speech_workers: int = Field(default=2, alias="SPEECH_WORKERS", ge=1, le=32)
    speech_queue_limit: int = Field(default=64, alias="SPEECH_QUEUE_LIMIT", ge=1)

    # LLM providers; the agent uses whichever is configured, else the rules agent.
    openai_api_key: SecretStr = Field(default=SecretStr(""), alias="OPENAI_API_KEY")
    openai_base_url: str = Field(default="", alias="OPENAI_BASE_URL")
    openai_org_id: str = Field(default="", alias="OPENAI_ORG_ID")
    openai_model: str = Field(default="gpt-4o-mini", alias="OPENAI_MODEL")
    # Where `agent.mode: realtime` calls connect; empty: OPENAI_BASE_URL (or OpenAI's own).
    openai_realtime_base_url: str = Field(default="", alias="OPENAI_REALTIME_BASE_URL")
    anthropic_api_key: SecretStr = Field(default=SecretStr(""), alias="ANTHROPIC_API_KEY")
    anthropic_base_url: str = Field(default="", alias="ANTHROPIC_BASE_URL")
    anthropic_model: str = Field(default="claude-haiku-4-5", alias="ANTHROPIC_MODEL")
    llm_temperature: float = Field(default=0.3, alias="LLM_TEMPERATURE", ge=0, le=2)
    llm_max_tokens: int = Field(default=300, alias="LLM_MAX_TOKENS", ge=16)

    # "dialplan": each call gets its dialplan's agent chain; "instant": fixed replies, for
    # `bridge bench` measuring the bridge itself.
    bridge_agent: Literal["dialplan", "instant"] = Field(default="dialplan", alias="BRIDGE_AGENT")

    max_concurrent_calls: int = Field(default=500, alias="MAX_CONCURRENT_CALLS", ge=1)
    # A request's head and body must arrive within this; an idle connection closes after it.
    request_timeout_s: float = Field(default=10.0, alias="REQUEST_TIMEOUT_S", gt=0, le=300)
    # A media socket must send `start` within this; at most this many may wait for it at once.
    media_start_timeout_s: float = Field(default=10.0, alias="MEDIA_START_TIMEOUT_S", gt=0)
    media_waiting_limit: int = Field(default=200, alias="MEDIA_WAITING_LIMIT", ge=1)
    # A connection from an address refused for its media flood is held unread this long (0:
    # reset at once), so the flood's reconnect loop waits on it.
    tarpit_hold_s: float = Field(default=10.0, alias="TARPIT_HOLD_S", ge=0, le=300)
    # New connections a second from one address (not a trusted proxy), bursts of 4x; faster, it
    # is shut out as a refused flood is. 0: no limit (the proxy in front limits them).
    connections_per_s_per_address: float = Field(
        default=0.0, alias="CONNECTIONS_PER_S_PER_ADDRESS", ge=0
    )
    log_level: LogLevel = Field(default="INFO", alias="LOG_LEVEL")
    # "json": one JSON object per log line (with the CallSid), for log collectors.
    log_format: Literal["text", "json"] = Field(default="text", alias="LOG_FORMAT")
    # Names this process in call records when several share one database; empty: host:port.
    instance_id: str = Field(default="", alias="BRIDGE_INSTANCE_ID")

    @field_validator(
        "public_base_url", "twilio_api_base_url", "openai_base_url", "openai_realtime_base_url"
    )
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @property
    def trusted_proxy_networks(self) -> list[IPv4Network | IPv6Network]:
        """TRUSTED_PROXIES parsed; entries that do not parse are left out (preflight says so)."""
        networks = []
        for entry in self.trusted_proxies.split(","):
            try:
                networks.append(ip_network(entry.strip(), strict=False))
            except ValueError:
                continue
        return networks

    @property
    def public_ws_base(self) -> str:
        """The `wss://` form of the public base URL, for `<Stream url>` and its signature."""
        base = self.public_base_url
        if base.startswith("https://"):
            return "wss://" + base.removeprefix("https://")
        if base.startswith("http://"):
            return "ws://" + base.removeprefix("http://")
        return base
