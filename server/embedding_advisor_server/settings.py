"""Server settings: flags and ``ADVISOR_*`` environment variables, one pydantic model for both.

The service's own fields and defaults (pipeline defaults, workers, upload limit, cache folder) are
declared once, in ``core/config.py``; these settings inherit them and add the server's.
"""

from __future__ import annotations

import enum
from pathlib import Path

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, CliApp, CliSettingsSource, SettingsConfigDict

from .core.config import ServiceConfig, default_data_dir


class ServerSettings(BaseSettings, ServiceConfig):
    """Settings of ``advise-server`` (and of the CLI's embedded server)."""

    model_config = SettingsConfigDict(
        env_prefix="ADVISOR_",
        cli_kebab_case=True,
        cli_prog_name="advise-server",
        enable_decoding=False,  # MODEL_ROOTS is a path list (a:b), not JSON
    )

    host: str = Field("127.0.0.1", description="address to listen on ([::] for every interface)")
    port: int = Field(50051, ge=0, le=65535, description="port to listen on; 0 picks a free one")
    data_dir: Path = Field(
        default_factory=default_data_dir, description="where datasets and the job database live"
    )
    db_path: Path | None = Field(
        None, description="the SQLite job database (default DATA_DIR/jobs.sqlite3)"
    )
    max_message_bytes: int = Field(
        16 * 1024**2, ge=1024**2, description="largest gRPC message accepted"
    )
    max_concurrent_rpcs: int = Field(
        512,
        ge=1,
        description="calls in progress at once (beyond the 32 server threads they "
        "wait their turn); more get RESOURCE_EXHAUSTED from gRPC itself, health checks too",
    )
    grace_seconds: float = Field(5.0, ge=0, description="time given to in-flight calls on shutdown")
    gil_switch_ms: float = Field(
        1.0,
        gt=0,
        le=100,
        description="how long one of the server's threads may hold Python's "
        "interpreter lock while another waits for it (Python's own default is 5): shorter lets "
        "the event loop answer health checks sooner while the handler threads are busy",
    )
    log_level: str = Field("INFO", description="logging level")
    auth_tokens_file: Path | None = Field(
        None,
        description="bearer tokens, one 'principal token' line each; with any token (here or "
        "in AUTH_TOKENS) every call but health needs one, and each principal sees only its own "
        "jobs and uploads",
    )
    auth_tokens: SecretStr | None = Field(
        None, description="bearer tokens inline: principal:token,principal:token"
    )
    tls_cert_file: Path | None = Field(None, description="TLS certificate chain (PEM): serve TLS")
    tls_key_file: Path | None = Field(None, description="TLS private key (PEM)")
    tls_client_ca_file: Path | None = Field(
        None, description="CA bundle (PEM) of client certificates: require mutual TLS"
    )

    @property
    def job_db(self) -> Path:
        return self.db_path or self.data_dir / "jobs.sqlite3"

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "datasets"


class _Help(CliSettingsSource):
    """``advise-server --help`` spelling choices and defaults as the CLI and the JSON do
    (``onnx-fp32``, not ``ONNX_FP32``), the unset value not offered, and naming each setting's
    environment variable."""

    def _metavar_format(self, obj) -> str:
        if isinstance(obj, type) and issubclass(obj, enum.Enum):
            return "{" + ",".join(_word(m) for m in obj if m.value != "unspecified") + "}"
        return super()._metavar_format(obj)

    def _help_format(self, field_name, field_info, model_default, *args, **kwargs) -> str:
        text = super()._help_format(field_name, field_info, model_default, *args, **kwargs)
        if isinstance(field_info.default, enum.Enum):
            member = field_info.default
            text = text.replace(f"(default: {member.name})", f"(default: {_word(member)})")
        return f"{text} [env {variable(field_name)}]"


def variable(name: str) -> str:
    """The environment variable of setting ``name`` (``ADVISOR_MAX_TRAIN_EXAMPLES``)."""
    return f"{ServerSettings.model_config['env_prefix']}{name.upper()}"


def _word(member: enum.Enum) -> str:
    return str(member.value).replace("_", "-")


def parse(args: list[str]) -> ServerSettings:
    """Settings from flags (``args``) and ``ADVISOR_*`` variables; each setting's help names its
    variable."""
    source = _Help(ServerSettings, cli_prog_name="advise-server")
    return CliApp.run(ServerSettings, cli_args=args, cli_settings_source=source)


class SettingsError(ValueError):
    """Settings that do not validate; ``lines``: one per bad setting, naming it and its flag and
    variable, never its value (it may be a secret)."""

    def __init__(self, exc: ValidationError, flags: bool = True) -> None:
        self.lines = []
        for err in exc.errors():
            name = ".".join(str(p) for p in err["loc"]) or "settings"
            where = f"--{name.replace('_', '-')} or {variable(name)}" if flags else variable(name)
            self.lines.append(f"bad setting {name} ({where}): {err['msg']}")
        super().__init__("; ".join(self.lines))


def embedded(**fields) -> ServerSettings:
    """The settings of a server started in-process (``advise``'s, ``advise eval``'s): ``fields``
    and the ``ADVISOR_*`` variables, read as ``advise-server`` reads them; a bad variable raises
    ``SettingsError`` (naming variables only: an embedded server takes no flags)."""
    try:
        return ServerSettings(**fields)
    except ValidationError as exc:
        raise SettingsError(exc, flags=False) from None
