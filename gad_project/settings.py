"""GRUPO_GAD settings: one file, every value read from the environment with a default that works
with `make run`. Malformed values stop start-up with ImproperlyConfigured."""

from __future__ import annotations

import ipaddress
import os
import sys
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from gad_project import cifrado as _cifrado

BASE_DIR = Path(__file__).resolve().parent.parent
DEV_SECRET_KEY = "dev-insecure-grupo-gad-cambiar-en-produccion"


def env_str(name: str, default: str) -> str:
    """A string from NAME, or from the file named by NAME_FILE (for secrets)."""
    path = os.environ.get(f"{name}_FILE")
    if path:
        try:
            return Path(path).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE={path!r} cannot be read: {exc}") from exc
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use true/false, 1/0, yes/no)")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer") from exc
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value} must be at least {minimum}")
    return value


def env_float(name: str, default: float, *, minimum: float, maximum: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a number") from exc
    if not minimum <= value <= maximum:
        raise ImproperlyConfigured(f"{name}={value} must be between {minimum} and {maximum}")
    return value


def env_positivos(name: str, default: list[int], *, cantidad: int) -> list[int]:
    """A comma-separated list of exactly `cantidad` positive integers."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        values = [int(v) for v in raw.split(",")]
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a list of integers") from exc
    if len(values) != cantidad or any(v <= 0 for v in values):
        raise ImproperlyConfigured(f"{name}={raw!r} must be {cantidad} positive integers, comma-separated")
    return values


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


# Off unless asked for: a deployment that forgets it is not a debug server (make run and make test
# set what they need: a generated secret, plain-HTTP cookies on loopback).
DEBUG = env_bool("DEBUG", False)

# --- Metrics -------------------------------------------------------------------------------------
# prometheus_client's multiprocess mode: every process (the servers, Celery, the simulator, the bot,
# management commands) writes its metrics to files in this directory and /metrics on any server
# process adds them up. Set here, before any metric exists (prometheus_client reads it when the
# first metric is created, after the settings). One directory per machine and per REDIS_PREFIX (a
# test run does not count into `make run`'s); `make run` empties it when it starts.
PROMETHEUS_MULTIPROC_DIR = env_str(
    "PROMETHEUS_MULTIPROC_DIR",
    # (a pytest-xdist worker's servers count apart from the other worker's)
    str(
        BASE_DIR
        / ".run"
        / f"metricas-{os.environ.get('REDIS_PREFIX') or 'gad'}{os.environ.get('PYTEST_XDIST_WORKER', '')}"
    ),
)
if (_trabajador := os.environ.get("PYTEST_XDIST_WORKER", "")) and not PROMETHEUS_MULTIPROC_DIR.endswith(_trabajador):
    # pytest-xdist's controller set the variable before starting its workers, which inherit it:
    # without this the two workers' servers counted into one directory.
    PROMETHEUS_MULTIPROC_DIR += _trabajador
os.environ["PROMETHEUS_MULTIPROC_DIR"] = PROMETHEUS_MULTIPROC_DIR
Path(PROMETHEUS_MULTIPROC_DIR).mkdir(parents=True, exist_ok=True)
# Who may read /metrics: a bearer token (METRICS_TOKEN, empty = none accepted) or a client address
# in these networks (loopback by default: the Prometheus next to the app, or through the proxy,
# which passes the client's address).
METRICS_TOKEN = env_str("METRICS_TOKEN", "")
METRICS_REDES = env_list("METRICS_REDES", ["127.0.0.0/8", "::1/128"])
try:
    _redes = [ipaddress.ip_network(r, strict=False) for r in METRICS_REDES]
except ValueError as exc:
    raise ImproperlyConfigured(f"METRICS_REDES: {exc}") from exc
SECRET_KEY = env_str("SECRET_KEY", DEV_SECRET_KEY)
if not DEBUG and SECRET_KEY == DEV_SECRET_KEY:
    raise ImproperlyConfigured("DEBUG=False with the development SECRET_KEY: set SECRET_KEY (or SECRET_KEY_FILE).")
if not DEBUG and len(SECRET_KEY) < 32:
    raise ImproperlyConfigured("SECRET_KEY must be at least 32 characters when DEBUG=False.")

# Encryption at rest of personal data (gad_project.cifrado): the key file, read and validated now,
# so a missing or malformed one stops start-up with a message naming it.
CIFRADO_CLAVES_FILE = env_str("CIFRADO_CLAVES_FILE", str(BASE_DIR / ".run" / "cifrado_claves"))
_cifrado.leer_claves(CIFRADO_CLAVES_FILE)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
CSRF_FAILURE_VIEW = "gad_project.api.errors.csrf_rechazado"  # JSON under /api/, the usual page elsewhere
CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.forms",
    "django.contrib.gis",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "rest_framework_gis",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "corsheaders",
    "channels",
    "django_prometheus",
    "gad_project",
    "efectivos",
    "geocercas",
    "tareas",
    "seguridad",
    "mensajes",
    "posiciones",
    "realtime",
    "telegram_bot",
    "mapa",
    "campo",
    "auditlog",
    "auditoria",
    "reportes",
    "exportes",
    "demo",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "gad_project.rls.ContextoRls",  # the request's user is the database's context (row-level security)
    "gad_project.middleware.SesionDeslizante",
    "auditoria.middleware.Auditoria",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
    "gad_project.middleware.Degradacion",  # PostgreSQL or Redis down: 503, never Django's 500 page
    "gad_project.middleware.CadenaSincronica",  # innermost on purpose: see its docstring
]

ROOT_URLCONF = "gad_project.urls"
# Widgets render with TEMPLATES, so templates/gis/ can override the admin map widget.
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"
ASGI_APPLICATION = "gad_project.asgi.application"
WSGI_APPLICATION = None
AUTH_USER_MODEL = "efectivos.Usuario"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"  # campo.views.inicio: officers to the field app, command to the map
LOGOUT_REDIRECT_URL = "login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Data stores -------------------------------------------------------------------------------
# Defaults: the project-local services that scripts/services.sh starts (ports overridable there).
GAD_PG_PORT = env_int("GAD_PG_PORT", 55432, minimum=1)
GAD_REDIS_PORT = env_int("GAD_REDIS_PORT", 56379, minimum=1)
DATABASE_URL = env_str("DATABASE_URL", f"postgis://gad:gad@127.0.0.1:{GAD_PG_PORT}/gad")
try:
    _db = dj_database_url.parse(DATABASE_URL)
except ValueError as exc:
    raise ImproperlyConfigured(f"DATABASE_URL is malformed: {exc}") from exc
# PostGIS, with every transaction carrying the row-level security context (gad_project.rls).
_db["ENGINE"] = "gad_project.motor"
# Under ASGI every request runs in its own thread context, so per-thread persistent connections
# would mean a new PostgreSQL connection (fork + SCRAM) per request. A process-wide pool instead.
_db["CONN_MAX_AGE"] = 0
_db.setdefault("OPTIONS", {})["pool"] = {
    "min_size": env_int("DB_POOL_MIN", 2, minimum=0),
    "max_size": env_int("DB_POOL_MAX", 20, minimum=1),
    # Waiting longer for a connection than a client waits for an answer helps nobody: past this
    # the request is a 503 with Retry-After (PostgreSQL down, or the pool exhausted).
    "timeout": env_int("DB_POOL_TIMEOUT", 2, minimum=1),
}
# Statements run thousands of times a second (the ingest's) are prepared once per connection;
# empty disables it (a PgBouncer older than 1.21 in transaction mode cannot carry them).
_preparar = env_str("DB_PREPARE_THRESHOLD", "5")
try:
    _db["OPTIONS"]["prepare_threshold"] = int(_preparar) if _preparar else None
except ValueError as exc:
    raise ImproperlyConfigured(f"DB_PREPARE_THRESHOLD={_preparar!r} is not an integer") from exc
_db["OPTIONS"]["connect_timeout"] = env_int("DB_CONNECT_TIMEOUT", 2, minimum=1)
# Bounds on every connection (0 disables one): a runaway query, a lock held by a stuck
# transaction, or a transaction left open by a process that hung cannot take connections and
# locks from everyone else. A statement over the limit is cancelled (the API answers 503 and the
# client retries); long maintenance sets its own (`SET LOCAL statement_timeout`). Behind PgBouncer
# in transaction mode, set them on the role instead (ALTER ROLE gad SET ...; see README).
DB_STATEMENT_TIMEOUT_MS = env_int("DB_STATEMENT_TIMEOUT_MS", 30_000, minimum=0)
DB_LOCK_TIMEOUT_MS = env_int("DB_LOCK_TIMEOUT_MS", 5_000, minimum=0)
DB_IDLE_TX_TIMEOUT_MS = env_int("DB_IDLE_TX_TIMEOUT_MS", 60_000, minimum=0)
if env_bool("DB_OPCIONES_DE_SESION", True):
    _db["OPTIONS"]["options"] = (
        f"-c statement_timeout={DB_STATEMENT_TIMEOUT_MS} -c lock_timeout={DB_LOCK_TIMEOUT_MS} "
        f"-c idle_in_transaction_session_timeout={DB_IDLE_TX_TIMEOUT_MS}"
    )
# Parameters travel separately from the SQL: the ingest path sends arrays of hundreds of values,
# which client-side interpolation spent more time quoting than PostgreSQL spent running.
_db["OPTIONS"]["server_side_binding"] = env_bool("DB_SERVER_SIDE_BINDING", True)
_db["TEST"] = {"NAME": env_str("DATABASE_TEST_NAME", "test_gad")}
# Row-level security (gad_project.rls): the web servers connect as the runtime role, which neither
# owns the tables nor bypasses their policies; migrations and the system's processes (Celery, the
# bot, management commands) as DATABASE_URL's user, the owner. Same host, port and database; empty
# DB_USUARIO_WEB keeps the web on DATABASE_URL's user. A web server is an ASGI server's process
# (GAD_PROCESO=web|sistema says so explicitly for anything else).
DB_USUARIO_WEB = env_str("DB_USUARIO_WEB", "gad_app")
DB_CLAVE_WEB = env_str("DB_CLAVE_WEB", "gad_app")
_SERVIDORES_ASGI = {"daphne", "uvicorn", "gunicorn", "hypercorn", "granian"}
PROCESO_WEB = os.environ.get("GAD_PROCESO", "web" if Path(sys.argv[0]).name in _SERVIDORES_ASGI else "") == "web"
# The ingest's writer threads (posiciones.agrupador) connect as a role of their own, which the
# policies let through by name (no per-row checks on the hot path: the poster's scope is checked in
# the ingest's SQL); empty DB_USUARIO_INGESTA keeps them on the web's role, under the `ingesta`
# context.
DB_USUARIO_INGESTA = env_str("DB_USUARIO_INGESTA", "gad_ingesta")
DB_CLAVE_INGESTA = env_str("DB_CLAVE_INGESTA", "gad_ingesta")
DATABASES = {"default": _db}
if PROCESO_WEB and DB_USUARIO_WEB:
    if DB_USUARIO_INGESTA:
        DATABASES["ingesta"] = {
            **_db,
            "USER": DB_USUARIO_INGESTA,
            "PASSWORD": DB_CLAVE_INGESTA,
            "OPTIONS": {**_db["OPTIONS"], "pool": {**_db["OPTIONS"]["pool"], "min_size": 1}},
        }
    _db["USER"], _db["PASSWORD"] = DB_USUARIO_WEB, DB_CLAVE_WEB
# A streaming replica for the reads that tolerate lag (gad_project/bd.py): direct, not through
# PgBouncer, with the primary's options. Unset: everything reads from the primary.
DATABASE_REPLICA_URL = env_str("DATABASE_REPLICA_URL", "")
if DATABASE_REPLICA_URL:
    try:
        _replica = dj_database_url.parse(DATABASE_REPLICA_URL)
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_REPLICA_URL is malformed: {exc}") from exc
    _replica["ENGINE"] = _db["ENGINE"]
    _replica["CONN_MAX_AGE"] = 0
    _replica["OPTIONS"] = {**_db["OPTIONS"], "pool": dict(_db["OPTIONS"]["pool"]), "prepare_threshold": 5}
    _replica["TEST"] = {"MIRROR": "default"}
    if PROCESO_WEB and DB_USUARIO_WEB:
        _replica["USER"], _replica["PASSWORD"] = DB_USUARIO_WEB, DB_CLAVE_WEB
    DATABASES["replica"] = _replica
DATABASE_ROUTERS = ["gad_project.bd.Enrutador"]
REPLICA_REVISION_S = env_int("REPLICA_REVISION_S", 5, minimum=1)  # how often its health and lag are checked
REPLICA_RETRASO_MAX_S = env_int("REPLICA_RETRASO_MAX_S", 30, minimum=0)  # further behind: reads go to the primary
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL", f"redis://127.0.0.1:{GAD_REDIS_PORT}/0")
if not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured(f"REDIS_URL={REDIS_URL!r} must start with redis://, rediss:// or unix://")
# Parallel test workers (pytest-xdist, `make test-rapido`) each get their own keys, as they get
# their own test database.
REDIS_PREFIX = env_str("REDIS_PREFIX", "gad") + os.environ.get("PYTEST_XDIST_WORKER", "")

CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": REDIS_PREFIX,
        "OPTIONS": {
            "CLIENT_CLASS": "django_redis.client.DefaultClient",
            "SOCKET_CONNECT_TIMEOUT": 1,
            "SOCKET_TIMEOUT": 1,
            # Redis down: the cache is a miss (sessions fall back to PostgreSQL, tiles are built
            # again) instead of an error. What needs Redis itself (WebSocket tickets, the channel
            # layer) uses the raw client and answers 503.
            "IGNORE_EXCEPTIONS": True,
        },
    }
}

DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            # Several Redis hosts shard the channel layer (channels-redis hashes each channel and
            # group to one of them): CHANNEL_REDIS_URLS, comma-separated; by default REDIS_URL.
            "hosts": env_list("CHANNEL_REDIS_URLS", [REDIS_URL]),
            "prefix": f"{REDIS_PREFIX}:asgi",
            "capacity": env_int("CHANNEL_CAPACITY", 500, minimum=10),
            "expiry": 30,
            # A daphne that dies without closing its sockets leaves their group memberships behind,
            # and every group_send walks them. Memberships therefore expire quickly, and live
            # sockets renew theirs from the heartbeat loop (realtime.latido).
            "group_expiry": env_int("WS_GRUPOS_EXPIRA_S", 300, minimum=2),
        },
    }
}

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
# A task is acknowledged after it ran, and a task whose worker process died (SIGKILL, OOM) goes
# back to the queue and runs again: every task is idempotent (set-based refreshes and sweeps, the
# bot's deliveries claimed row by row). A message taken by a worker that vanished altogether is
# redelivered after the visibility timeout, which must exceed the longest task (the daily audit
# sweep: well under a minute) but not keep work waiting for Redis' default hour.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
TAREAS_VISIBILIDAD_S = env_int("CELERY_VISIBILITY_TIMEOUT_S", 300, minimum=10)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT_S", 240, minimum=1)
CELERY_TASK_SOFT_TIME_LIMIT = max(1, CELERY_TASK_TIME_LIMIT - 30)
if CELERY_TASK_TIME_LIMIT >= TAREAS_VISIBILIDAD_S:
    raise ImproperlyConfigured("CELERY_TASK_TIME_LIMIT_S must be below CELERY_VISIBILITY_TIMEOUT_S")
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "global_keyprefix": f"{REDIS_PREFIX}:celery:",
    "visibility_timeout": TAREAS_VISIBILIDAD_S,
    # kombu sweeps for expired unacknowledged messages every interval × throttle seconds (100 by
    # default): every 10 s instead, so redelivery comes within the visibility timeout plus 10 s.
    "unacked_restore_interval": 10,
    "unacked_restore_throttle": 1,
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"

# --- Locale --------------------------------------------------------------------------------------
# The UI is Spanish (es-AR) whatever the browser asks for: no LocaleMiddleware.
LANGUAGE_CODE = "es-ar"
LANGUAGES = [("es-ar", "Español (Argentina)")]
TIME_ZONE = "America/Argentina/Buenos_Aires"
USE_I18N = True
USE_TZ = True  # stored in UTC, shown in Buenos Aires time

STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / ".run" / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Served by WhiteNoise from daphne itself: one process to run, no CDN, works offline.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_MAX_AGE = 3600

# --- API -----------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": [
        "gad_project.api.render.RenderJson",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": ["gad_project.api.parsers.JsonAcotado"],
    "DEFAULT_FILTER_BACKENDS": ["gad_project.api.filtros.FiltroBackend"],
    "DEFAULT_PAGINATION_CLASS": "gad_project.api.pagination.Paginacion",
    "PAGE_SIZE": 100,
    "EXCEPTION_HANDLER": "gad_project.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "gad_project.api.esquema.Esquema",
    "DEFAULT_THROTTLE_CLASSES": ["gad_project.limites.Escrituras"],
    "DEFAULT_THROTTLE_RATES": {"token": env_str("THROTTLE_TOKEN", "300/min")},
    # Proxies in front of the app (HAProxy in `make run`): the client address for throttling is
    # the one the last of them appended to X-Forwarded-For, which a client cannot forge.
    "NUM_PROXIES": env_int("NUM_PROXIES", 1, minimum=0),
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
# Per-user limits on writes (gad_project/limites.py): 429 with Retry-After beyond them.
LIMITE_POSICIONES = env_str("LIMITE_POSICIONES", "600/min")
LIMITE_ESCRITURAS = env_str("LIMITE_ESCRITURAS", "120/min")
# Wrong passwords (gad_project/limites.py, "Signing in"): per username and address, per username
# from anywhere (a slower backstop), per address for any username.
INGRESO_FALLOS_PAR = env_str("INGRESO_FALLOS_PAR", "10/15min")
INGRESO_FALLOS_USUARIO = env_str("INGRESO_FALLOS_USUARIO", "100/h")
INGRESO_FALLOS_DIRECCION = env_str("INGRESO_FALLOS_DIRECCION", "100/15min")
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": env_int("CLAVE_LARGO_MIN", 12, minimum=8)},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_int("JWT_ACCESS_MINUTES", 15, minimum=1)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env_int("JWT_REFRESH_DAYS", 7, minimum=1)),
    "ROTATE_REFRESH_TOKENS": True,
    # A refresh token that has been rotated (or revoked) is refused from then on.
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    # Tokens carry a fingerprint of the password hash: a password change invalidates every access
    # token at once (refresh tokens are also blacklisted then: gad_project/accesos.py).
    "CHECK_REVOKE_TOKEN": True,
    "SIGNING_KEY": SECRET_KEY,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "GRUPO_GAD API",
    "DESCRIPTION": "Centro de operaciones: efectivos, geocercas, alertas y tareas.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Operations are tagged by resource (the path segment after this prefix): efectivos, tareas...
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Swagger UI assets from the drf-spectacular-sidecar package: no CDN at run time.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "EstadoEfectivoEnum": "efectivos.models.EstadoEfectivo",
        "EstadoTareaEnum": "tareas.models.EstadoTarea",
        "EstadoAsignacionEnum": "tareas.models.EstadoAsignacion",
        "TipoTareaEnum": "tareas.models.TipoTarea",
        "PrioridadEnum": "tareas.models.Prioridad",
        "TipoGeocercaEnum": "geocercas.models.TipoGeocerca",
        "TipoDispositivoEnum": "efectivos.models.TipoDispositivo",
        "TipoAlertaEnum": "geocercas.models.TipoAlerta",
        "SeveridadEnum": "geocercas.models.Severidad",
        "EstadoAlertaEnum": "geocercas.models.EstadoAlerta",
        # What an efectivo may set themselves (not en_tarea: that comes with an assignment).
        "DisponibilidadEnum": ["disponible", "no_disponible", "fuera_servicio"],
    },
}

# --- Security headers ----------------------------------------------------------------------------
# Sessions read from Redis, written through to PostgreSQL: every map tile and API call of a
# signed-in browser reads the session, and a Redis restart must not sign everyone out.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
# An operations console: a session lasts hours, not Django's two weeks, and slides while it is used
# (renewed at most every SESION_RENOVAR_S by gad_project.middleware.SesionDeslizante, not on every
# request: each renewal is a write).
SESSION_COOKIE_AGE = env_int("SESION_HORAS", 12, minimum=1) * 3600
SESION_RENOVAR_S = env_int("SESION_RENOVAR_S", 300, minimum=10)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_TLS_PROXY", False) else None
X_FRAME_OPTIONS = "DENY"  # nothing of ours is ever framed
# Behind the TLS proxy in production (deploy/gad.env.example): plain HTTP is redirected and
# browsers told to use HTTPS only. Probes and Prometheus reach the app directly, unredirected.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_REDIRECT_EXEMPT = [r"^health", r"^metrics$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", "'unsafe-inline'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:", *env_list("MAPA_TILES_ORIGINS", [])],
        # 'self' covers the page's own ws:// and wss:// origin (CSP Level 3); no other host.
        "connect-src": ["'self'", *env_list("MAPA_TILES_ORIGINS", [])],
        "worker-src": ["'self'", "blob:"],
    }
}

# --- Domain --------------------------------------------------------------------------------------
# The base map is offline: Natural Earth land (loaded by a migration from the npm package
# world-atlas) plus, once installed with `manage.py base_instalar`, an OpenStreetMap PMTiles or
# MBTiles archive kept in MAPA_BASE_DIR. MAPA_TILES_URL optionally adds an XYZ raster server on top
# (its origin must then be listed in MAPA_TILES_ORIGINS).
MAPA_BASE_DIR = env_str("MAPA_BASE_DIR", str(BASE_DIR / ".run" / "base"))
MAPA_TILES_URL = env_str("MAPA_TILES_URL", "")
# The audit trail (auditoria): django-auditlog's capture into our chained model, kept this long.
AUDITLOG_LOGENTRY_MODEL = "auditoria.Registro"
# auditlog's own migrations create its default LogEntry table, which is swapped out for ours.
MIGRATION_MODULES = {"auditlog": None}
# The chain's head is appended to this file every AUDITORIA_ANCLA_MIN minutes (outside the database:
# a removal of the newest records is then detected). Keep it where the app's database role cannot
# write: on another volume, append-only (chattr +a), or shipped to the agency's log host.
# Empty: .run/auditoria/anclas-<database name>.log.
AUDITORIA_ANCLAS = env_str("AUDITORIA_ANCLAS", "")
AUDITORIA_ANCLA_MIN = env_int("AUDITORIA_ANCLA_MIN", 5, minimum=1)
AUDITORIA_RETENCION_DIAS = env_int("AUDITORIA_RETENCION_DIAS", 1825, minimum=1)
# Duty (#30): readings taken off duty are not stored (efectivos.Turno). A sign-on is accepted from
# TURNO_TOLERANCIA_MIN minutes before a shift starts until it ends.
SERVICIO_EXIGIDO = env_bool("SERVICIO_EXIGIDO", True)
TURNO_TOLERANCIA_MIN = env_int("TURNO_TOLERANCIA_MIN", 15, minimum=0)
# Retention of the other records about people (gad_project.retencion), in days.
ALERTAS_RETENCION_DIAS = env_int("ALERTAS_RETENCION_DIAS", 365, minimum=1)
MENSAJES_RETENCION_DIAS = env_int("MENSAJES_RETENCION_DIAS", 180, minimum=1)
SOS_RETENCION_DIAS = env_int("SOS_RETENCION_DIAS", 365, minimum=1)
BIENESTAR_RETENCION_DIAS = env_int("BIENESTAR_RETENCION_DIAS", 180, minimum=1)
DISPOSITIVOS_RETENCION_DIAS = env_int("DISPOSITIVOS_RETENCION_DIAS", 365, minimum=1)
# Exports (/api/v1/exportes/): the longest window one request may ask for.
EXPORTES_VENTANA_MAX_DIAS = env_int("EXPORTES_VENTANA_MAX_DIAS", 366, minimum=1)
MAPA_CENTRO = (-58.4173, -34.6118)  # lon, lat: Buenos Aires
# Vector tiles: moving efectivos are cached per time bucket of this many seconds; versioned layers
# (geocercas, densidad) for TILES_CACHE_TTL_S. Warming covers the operating area at these zooms.
TILES_EFECTIVOS_TTL_S = env_int("TILES_EFECTIVOS_TTL_S", 5, minimum=1)
TILES_CACHE_TTL_S = env_int("TILES_CACHE_TTL_S", 3600, minimum=1)
_calentar = env_str("TILES_CALENTAR_ZOOM", "11-14")
try:
    TILES_CALENTAR_ZOOM = tuple(int(z) for z in _calentar.split("-", 1))
    assert len(TILES_CALENTAR_ZOOM) == 2 and 0 <= TILES_CALENTAR_ZOOM[0] <= TILES_CALENTAR_ZOOM[1] <= 18
except (ValueError, AssertionError) as exc:
    raise ImproperlyConfigured(f"TILES_CALENTAR_ZOOM must look like 11-14, got {_calentar!r}") from exc
POSICIONES_LOTE_MAX = env_int("POSICIONES_LOTE_MAX", 500, minimum=1)
# Bodies above this are refused with 413 before they are read (500 verbose readings fit).
POSICIONES_CUERPO_MAX_BYTES = env_int("POSICIONES_CUERPO_MAX_BYTES", 512 * 1024, minimum=1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = POSICIONES_CUERPO_MAX_BYTES
# Group commit of the lean ingest path: readings per transaction at most, concurrent writers per
# process (one was best in benchmarks/ingest.py: larger groups, no GIL or row-lock contention
# between writers of one process), and how long a caller's role and scope may be reused (any change deletes it at once).
INGESTA_GRUPO_MAX = env_int("INGESTA_GRUPO_MAX", 1000, minimum=1)
INGESTA_ESCRITORES = env_int("INGESTA_ESCRITORES", 1, minimum=1)
INGESTA_ACTOR_TTL_S = env_int("INGESTA_ACTOR_TTL_S", 60, minimum=1)
# Tracker devices (Traccar Client, OwnTracks): below this battery the map marks the efectivo.
DISPOSITIVO_BATERIA_BAJA_PCT = env_int("DISPOSITIVO_BATERIA_BAJA_PCT", 20, minimum=0)
# How long the lean path may reuse a device's cached credential check. Every change that matters
# (revocation, a deactivated user, another efectivo or unidad) deletes the entry at once
# (efectivos.signals); the expiry only bounds a bulk update that sends no signal. A phone reports
# every 30 s, so a short expiry would send one report in two to PostgreSQL.
DISPOSITIVO_CACHE_TTL_S = env_int("DISPOSITIVO_CACHE_TTL_S", 3600, minimum=1)
# The tracking profile the provisioning QR sets on the phones: a fix every 30 s or 30 m while
# moving, high accuracy, and a heartbeat while still that keeps the efectivo in contact (at most
# half of SIN_REPORTE_MIN, so a still officer is never "sin reporte").
DISPOSITIVO_INTERVALO_S = env_int("DISPOSITIVO_INTERVALO_S", 30, minimum=5)
DISPOSITIVO_DISTANCIA_M = env_int("DISPOSITIVO_DISTANCIA_M", 30, minimum=0)
DISPOSITIVO_PRECISION = env_str("DISPOSITIVO_PRECISION", "high")
# The public address phones reach (the QR's server URL); empty: the address the request came to.
GAD_URL_PUBLICA = env_str("GAD_URL_PUBLICA", "").rstrip("/")
# The longest window one request for an efectivo's track may cover (exports cover longer ones).
RECORRIDO_VENTANA_MAX_H = env_int("RECORRIDO_VENTANA_MAX_H", 168, minimum=1)
POSICIONES_FUTURO_MAX_S = env_int("POSICIONES_FUTURO_MAX_S", 300, minimum=0)
POSICIONES_ANTIGUEDAD_MAX_H = env_int("POSICIONES_ANTIGUEDAD_MAX_H", 72, minimum=1)
# The position history is kept this many days, then its day partitions are dropped (pg_partman,
# hourly): 90 days cover an investigation's usual window (its size at a given fleet is in the
# capacity plan, docs/despliegue.md, from benchmarks/historia.py). At least the oldest reading
# accepted, plus a day.
POSICIONES_RETENCION_DIAS = env_int("POSICIONES_RETENCION_DIAS", 90, minimum=-(-POSICIONES_ANTIGUEDAD_MAX_H // 24) + 1)
DESPACHO_FIX_MAX_MIN = env_int("DESPACHO_FIX_MAX_MIN", 15, minimum=1)
# Nobody is ever dispatched from farther than this (metres), whatever radius is asked for.
DESPACHO_RADIO_MAX_M = env_int("DESPACHO_RADIO_MAX_M", 10_000, minimum=100)
# An efectivo in service with no fix for this many minutes raises "sin reporte".
SIN_REPORTE_MIN = env_int("SIN_REPORTE_MIN", 10, minimum=1)
DISPOSITIVO_LATIDO_S = env_int("DISPOSITIVO_LATIDO_S", min(300, SIN_REPORTE_MIN * 30), minimum=30)
# A reading's stated error (precision_m) is used up to this many metres by the geofences'
# hysteresis and the speed check; a reading less precise than this is flagged ("imprecisa") and
# never taken as evidence that an efectivo left a zone.
PRECISION_DECIDIR_M = env_int("PRECISION_DECIDIR_M", 100, minimum=5)
# A reading implying a faster move than this from the last accepted fix is flagged, not used.
VELOCIDAD_MAX_KMH = env_int("VELOCIDAD_MAX_KMH", 250, minimum=1)
# Readings set aside that way are accepted only as a consistent track of their own: at least this
# many, spanning at least this many seconds (posiciones.plausibilidad). One more fix is not enough:
# flapping between two places would confirm every jump.
PLAUSIBILIDAD_CONFIRMAR_LECTURAS = env_int("PLAUSIBILIDAD_CONFIRMAR_LECTURAS", 3, minimum=2)
PLAUSIBILIDAD_CONFIRMAR_S = env_int("PLAUSIBILIDAD_CONFIRMAR_S", 30, minimum=0)
# A fence is inferred crossed between two fixes (neither inside it) only when they are at most
# this many seconds apart (a fence may set its own, 10 to 900), and when no path up to RODEO times
# the straight line between them could have gone around it (geocercas.engine, SQL_CRUCES).
GEOCERCA_CRUCE_MAX_S = env_float("GEOCERCA_CRUCE_MAX_S", 120, minimum=10, maximum=900)
GEOCERCA_CRUCE_RODEO = env_float("GEOCERCA_CRUCE_RODEO", 1.2, minimum=1.0, maximum=3.0)
# A lone fix on the other side of a fence that asks for two (a car through a block between fixes,
# a walker out of the perimeter between fixes a minute apart) is confirmed by the next fix, though
# that one is back, unless it refutes it: passing through the lone fix would be a detour, over the
# straight way from the fix before it to the next one, longer than the three fixes' stated errors
# plus this speed (a brisk walk, m/s) times the time between them (geocercas.engine).
GEOCERCA_PAR_DESVIO_MS = env_float("GEOCERCA_PAR_DESVIO_MS", 1.5, minimum=0, maximum=50)
# Kilometres in reports count a fix only once it is this many metres from the last one counted
# (GPS jitter around a standing officer is not distance), and drop a fix this far from both its
# neighbours when they are close together (a spike, not a walk there and back): reportes.selectors.
REPORTE_JITTER_M = env_float("REPORTE_JITTER_M", 25, minimum=0, maximum=200)
REPORTE_PICO_M = env_float("REPORTE_PICO_M", 30, minimum=5, maximum=5000)
# ...but only when a neighbour is closer than this in time, or the detour is faster than that: a
# minute apart, the officer may have gone there and back (out of the perimeter, into a block),
# though not a kilometre away and back in two minutes.
REPORTE_PICO_MAX_S = env_float("REPORTE_PICO_MAX_S", 60, minimum=0, maximum=3600)
REPORTE_PICO_KMH = env_float("REPORTE_PICO_KMH", 30, minimum=1, maximum=500)
# A commander silences a fence (alerts recorded without sound, Telegram or escalation) for at
# most this many minutes.
GEOCERCA_SILENCIO_MAX_MIN = env_int("GEOCERCA_SILENCIO_MAX_MIN", 240, minimum=1)
# A geofence alert still pending after this many minutes is escalated (map and bot).
ALERTA_ESCALAR_MIN = env_int("ALERTA_ESCALAR_MIN", 5, minimum=1)
# Backup efectivos dispatched at once to an SOS.
SOS_REFUERZOS = env_int("SOS_REFUERZOS", 2, minimum=1)
# Seconds an assignee has to accept, by the task's priority (baja, normal, alta, urgente, crítica:
# an SOS backup is a critical emergency); past it the assignment is released and the next
# nearest available efectivo dispatched. A task may carry its own (`plazo_aceptar_s`).
DESPACHO_ACEPTAR_S = env_positivos("DESPACHO_ACEPTAR_S", [900, 600, 300, 120, 60], cantidad=5)
# Welfare check-ins (seguridad.services.bienestar). Minutes an officer has to answer an ask;
# whether any fresh fix counts as an answer (it proves the phone moves, not that the officer is
# well: off by default); misses in a row that raise an SOS on their behalf.
BIENESTAR_PLAZO_MIN = env_float("BIENESTAR_PLAZO_MIN", 5.0, minimum=0.01, maximum=120)
BIENESTAR_POSICION_CUENTA = env_bool("BIENESTAR_POSICION_CUENTA", False)
BIENESTAR_FALLOS_SOS = env_int("BIENESTAR_FALLOS_SOS", 2, minimum=1)
# The cadence is multiplied by each factor that applies (1 turns a factor off): inside a
# restricted geocerca, on an emergency task, alone at night (no other efectivo in service within
# BIENESTAR_SOLO_RADIO_M between BIENESTAR_NOCHE_DESDE and BIENESTAR_NOCHE_HASTA, local hours).
BIENESTAR_FACTOR_RESTRINGIDA = env_float("BIENESTAR_FACTOR_RESTRINGIDA", 0.5, minimum=0.05, maximum=1)
BIENESTAR_FACTOR_EMERGENCIA = env_float("BIENESTAR_FACTOR_EMERGENCIA", 0.5, minimum=0.05, maximum=1)
BIENESTAR_FACTOR_NOCHE_SOLO = env_float("BIENESTAR_FACTOR_NOCHE_SOLO", 0.5, minimum=0.05, maximum=1)
BIENESTAR_NOCHE_DESDE = env_int("BIENESTAR_NOCHE_DESDE", 22, minimum=0)
BIENESTAR_NOCHE_HASTA = env_int("BIENESTAR_NOCHE_HASTA", 6, minimum=0)
BIENESTAR_SOLO_RADIO_M = env_int("BIENESTAR_SOLO_RADIO_M", 300, minimum=10)
# An urgent message is re-sent through the bot every MENSAJE_URGENTE_REENVIO_MIN until the
# officer acknowledges it, for at most MENSAJE_URGENTE_REENVIO_MAX_MIN after it was written.
MENSAJE_URGENTE_REENVIO_MIN = env_float("MENSAJE_URGENTE_REENVIO_MIN", 2.0, minimum=0.05, maximum=60)
MENSAJE_URGENTE_REENVIO_MAX_MIN = env_int("MENSAJE_URGENTE_REENVIO_MAX_MIN", 30, minimum=1)
# A commander's dispatch takes reinforcements from other unidades when nobody of theirs is in range.
DESPACHO_REFUERZOS = env_bool("DESPACHO_REFUERZOS", True)
EVENTOS_RETENCION_H = env_int("EVENTOS_RETENCION_H", 72, minimum=1)
WS_PING_S = env_int("WS_PING_S", 15, minimum=1)
WS_PONG_TIMEOUT_S = env_int("WS_PONG_TIMEOUT_S", 30, minimum=1)
WS_GRUPOS_RENOVAR_S = env_int("WS_GRUPOS_RENOVAR_S", 60, minimum=1)
WS_REPLAY_MAX = env_int("WS_REPLAY_MAX", 5000, minimum=1)
WS_DEDUP_IDS = env_int("WS_DEDUP_IDS", 20000, minimum=100)
# Log every alert's, SOS's and assignment's delivery timestamps (commit, handed to the channel
# layer, received by the socket's consumer, written): the per-stage histograms' detail.
REALTIME_TRAZA = env_bool("REALTIME_TRAZA", False)
WS_TICKET_TTL_S = env_int("WS_TICKET_TTL_S", 30, minimum=1)
TELEGRAM_BOT_TOKEN = env_str("TELEGRAM_BOT_TOKEN", "")
TELEGRAM_API_URL = env_str("TELEGRAM_API_URL", "https://api.telegram.org/bot")
TELEGRAM_BOT_USERNAME = env_str("TELEGRAM_BOT_USERNAME", "")  # for t.me deep links in linking codes
TELEGRAM_CODIGO_TTL_MIN = env_int("TELEGRAM_CODIGO_TTL_MIN", 15, minimum=1)
TELEGRAM_POLL_TIMEOUT_S = env_int("TELEGRAM_POLL_TIMEOUT_S", 30, minimum=0)
TELEGRAM_REINTENTO_MAX_S = env_int("TELEGRAM_REINTENTO_MAX_S", 300, minimum=1)
TELEGRAM_WEBHOOK_SECRET = env_str("TELEGRAM_WEBHOOK_SECRET", "")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {
            "()": "gad_project.registro.FormatoSinSecretos",
            "format": "%(asctime)s %(levelname)s %(name)s: %(message)s",
        }
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.channels.server": {"level": "WARNING"},
        # httpx logs every request's full URL at INFO, and the Bot API's carry the bot's token
        # (/bot<TOKEN>/...): never below WARNING, whatever LOG_LEVEL says.
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        # Their progress (every stylesheet, font and page of a PDF) at INFO is noise.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

# GDAL never opens what a user sends: KML is parsed by geocercas.formatos with a hardened XML
# parser, and a GeoJSON `crs` other than WGS 84 is refused before GDAL sees it. As a second wall
# GDAL may not reach the network from this process: /vsicurl/ opens no file extension at all and
# any HTTP it attempts goes to a closed local port. Debian 12's GDAL 3.6 still cannot block file
# access from spatial references, which `manage.py check` says (gis.W001): it is left on so an
# operator sees it; GDAL 3.9 or newer removes it.
for _nombre, _valor in {
    "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".gad-sin-red",
    "GDAL_HTTP_PROXY": "127.0.0.1:9",
    "GDAL_HTTP_TIMEOUT": "1",
    "GDAL_HTTP_MAX_RETRY": "0",
    "PROJ_NETWORK": "OFF",
}.items():
    os.environ[_nombre] = _valor
