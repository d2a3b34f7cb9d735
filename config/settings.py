"""servicehall settings: one file, driven by environment variables.

Embedded default (no variables set): SQLite under var/, DEBUG off, local file storage.
Production sets DATABASE_URL (PostgreSQL), SECRET_KEY, ALLOWED_HOSTS and friends.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("SERVICEHALL_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [part.strip() for part in os.environ.get(name, default).split(",") if part.strip()]


DEBUG = env_bool("DEBUG")
# The fallback key only suits the embedded demo; `manage.py check --deploy` flags it.
SECRET_KEY = os.environ.get("SECRET_KEY") or "django-insecure-embedded-demo-key-set-SECRET_KEY"
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
USE_X_FORWARDED_HOST = env_bool("USE_X_FORWARDED_HOST")
if env_bool("BEHIND_TLS_PROXY"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rules.apps.AutodiscoverRulesConfig",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_htmx",
    "django_ratelimit",
    "ninja",
    "servicehall.core",
    "servicehall.accounts",
    "servicehall.catalog",
    "servicehall.cases",
    "servicehall.registry",
    "servicehall.notify",
    "servicehall.letters",
    "servicehall.bookings",
    "servicehall.escorts",
    "servicehall.alarms",
    "channels",
]
# Under runserver (DEBUG, `make run`), daphne's runserver serves pages and the dispatch
# console's WebSockets from one process; it must come first. Production serves pages on
# WSGI (gunicorn) and WebSockets on a separate ASGI process (config/asgi.py).
if env_bool("ASGI_RUNSERVER", DEBUG):
    INSTALLED_APPS.insert(0, "daphne")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "servicehall.accounts.middleware.StaffSessionTimeoutMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Axes must be last: it turns a locked-out login into its lockout response.
    "axes.middleware.AxesMiddleware",
]

# The lean lane (config/wsgi.py): anonymous read-only count APIs skip sessions, users, the
# second factor and the page middleware. Security headers and the user's language remain.
# Machine callbacks of SMS gateways (/sms/inbound/) have no session or user either.
LEAN_API_PREFIXES = ["/api/registry/names", "/api/bench/", "/sms/inbound/"]
LEAN_API_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.locale.LocaleMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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
                "servicehall.core.context_processors.display_preferences",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------
VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'servicehall.sqlite3'}"),
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool(
    "DB_PREPARED_STATEMENTS", True
):
    # Server-side parameters, and a statement run 5 times on a connection is prepared: the
    # hot paths' statements are then planned once per connection, not on every request (the
    # booking read's 5-table join took ~1 ms to plan and 0.1 ms to run). Set
    # DB_PREPARED_STATEMENTS=0 behind a transaction-pooling PgBouncer older than 1.21.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        server_side_binding=True, prepare_threshold=5
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # WAL lets the demo server read while a command writes.
    DATABASES["default"].setdefault("OPTIONS", {})["init_command"] = (
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {
    "default": {
        "BACKEND": os.environ.get("CACHE_BACKEND", "django.core.cache.backends.locmem.LocMemCache"),
        "LOCATION": os.environ.get("CACHE_LOCATION", "servicehall"),
    }
}

# Rate limits count in this cache. Local memory is right for the one-process embedded server
# only; production sets a shared cache (Redis), and then the checks below stay on.
RATELIMIT_USE_CACHE = "default"
if CACHES["default"]["BACKEND"].endswith("LocMemCache"):
    SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001"]
elif CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    SILENCED_SYSTEM_CHECKS = ["django_ratelimit.W001"]  # Django's own Redis cache is atomic

# --- accounts and security ------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "rules.permissions.ObjectPermissionBackend",
    "servicehall.accounts.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("username", "name", "email", "id_number", "mobile")},
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "core:home"

# Citizens keep a two-week session; staff sessions end after idle minutes (middleware).
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", str(14 * 24 * 3600)))
# Sessions are read through the cache when it is shared (Redis): a signed-in request then
# makes no session query; writes go to the database too (cached_db). A local-memory cache is
# per process: a sign-out or an idle-time refresh in one worker would not reach another
# worker's copy, so there the database alone holds sessions.
SESSION_ENGINE = os.environ.get(
    "SESSION_ENGINE",
    "django.contrib.sessions.backends."
    + ("db" if CACHES["default"]["BACKEND"].endswith("LocMemCache") else "cached_db"),
)
STAFF_IDLE_TIMEOUT = timedelta(minutes=int(os.environ.get("STAFF_IDLE_MINUTES", "15")))
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("AXES_COOLOFF_MINUTES", "15")))
# Lock an account after AXES_FAILURE_LIMIT failures from anywhere. The (address, account) pair
# adds nothing while "username" is listed; it answers axes.W006 and keeps a per-address lock if
# the account-wide one is ever dropped. The address alone is not a lock: a station's office
# network or a carrier's NAT puts thousands of people behind one address.
AXES_LOCKOUT_PARAMETERS = ["username", ["ip_address", "username"]]
# The login form resolves mobile / ID / police numbers to the account's username before
# authenticating, so every identifier of one account shares one failure count.
AXES_USERNAME_FORM_FIELD = "username"
# What was typed may be an ID number: keep it out of axes' stored request data.
AXES_SENSITIVE_PARAMETERS = ["username", "password", "token", "password1", "password2"]
AXES_CLIENT_IP_CALLABLE = "servicehall.core.audit.client_ip"
AXES_LOCKOUT_CALLABLE = "servicehall.accounts.views.locked_out"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False

OTP_TOTP_ISSUER = "servicehall"

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# A strict policy: no inline script or style anywhere; data for charts goes via json_script.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        # The dispatch console adds ws(s):// of its own host on its pages (alarms).
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- real time (the dispatch console) ---------------------------------------------------
# In memory for the embedded default (one process); CHANNEL_LAYER_URL=redis://host:6379/2
# selects Redis (channels-redis), which production needs as soon as pages (WSGI) and
# WebSockets (ASGI) run in separate processes.
CHANNEL_LAYER_URL = os.environ.get("CHANNEL_LAYER_URL", "")
if CHANNEL_LAYER_URL.startswith(("redis://", "rediss://", "unix://")):
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [CHANNEL_LAYER_URL]},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# --- language and time ----------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- files ----------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise warns when it is missing
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG and env_bool("COLLECTED_STATIC")
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not env_bool("COLLECTED_STATIC")

# --- servicehall ----------------------------------------------------------------------
# Absolute base for links that leave the site (QR codes, SMS). Empty: taken from the request.
SERVICEHALL_BASE_URL = os.environ.get("SERVICEHALL_BASE_URL", "").rstrip("/")
SERVICEHALL_CATALOG_DIR = BASE_DIR / "servicehall" / "catalog" / "items"
# Audit entries are kept at least this long (DESIGN: 6 months).
AUDIT_RETENTION_DAYS = int(os.environ.get("AUDIT_RETENTION_DAYS", "200"))
# How many proxies in front append to X-Forwarded-For; 0 = trust only REMOTE_ADDR.
AUDIT_TRUSTED_PROXY_COUNT = int(os.environ.get("AUDIT_TRUSTED_PROXY_COUNT", "0"))
# Other processes see an administrator's calendar edit within this many seconds.
CALENDAR_CACHE_SECONDS = int(os.environ.get("CALENDAR_CACHE_SECONDS", "30"))

# Cases: the share of filings drawn for a spot check (an item's data may set its own), and the
# working days a supervisor has to follow up a bad rating.
CASES_SPOT_CHECK_SHARE = float(os.environ.get("CASES_SPOT_CHECK_SHARE", "0.2"))
CASES_FOLLOW_UP_DAYS = int(os.environ.get("CASES_FOLLOW_UP_DAYS", "5"))
CASES_MAX_ATTACHMENT_MB = int(os.environ.get("CASES_MAX_ATTACHMENT_MB", "10"))

# Letters (信访, servicehall.letters): working days to reply, per kind. Defaults follow the
# bureau's published mailbox promise: a question (咨询) or a request for help (求助) within 3
# working days, everything else within 5. Override as "kind=days,..." (e.g. "complaint=10").
LETTER_REPLY_DAYS = {
    "consultation": 3,
    "help": 3,
    "complaint": 5,
    "suggestion": 5,
    "report": 5,
    "praise": 5,
} | {
    kind: int(days)
    for kind, _sep, days in (p.partition("=") for p in env_list("LETTER_REPLY_DAYS"))
}
# Kinds whose reply a leader (approver) must approve before it goes out; misconduct reports
# (12389) always need approval whatever their kind.
LETTER_APPROVAL_KINDS = env_list("LETTER_APPROVAL_KINDS", "complaint,report")
# Department codes: the letters office triages every letter; misconduct reports go straight
# to police inspection and only its staff can read them.
LETTER_TRIAGE_DEPARTMENT = os.environ.get("LETTER_TRIAGE_DEPARTMENT", "xinfang")
LETTER_MISCONDUCT_DEPARTMENT = os.environ.get("LETTER_MISCONDUCT_DEPARTMENT", "ducha")
# Open311 GeoReport v2 (/open311/): this city's jurisdiction_id, its main website's domain.
OPEN311_JURISDICTION_ID = os.environ.get("OPEN311_JURISDICTION_ID", "shenyang.gov.cn")
# Requests an Open311 client (one API key) may create per period; empty turns the limit off.
OPEN311_POST_RATE = os.environ.get("OPEN311_POST_RATE", "60/m")

# Bookings (预约, servicehall.bookings): a slot becomes bookable RELEASE_DAYS_AHEAD days before
# its day at RELEASE_TIME (local time); N no-shows within WINDOW days restrict booking for
# RESTRICT days; check-in opens EARLY minutes before a slot and closes LATE minutes after it.
BOOKING_RELEASE_DAYS_AHEAD = int(os.environ.get("BOOKING_RELEASE_DAYS_AHEAD", "7"))
BOOKING_RELEASE_TIME = os.environ.get("BOOKING_RELEASE_TIME", "08:00")
BOOKING_NO_SHOW_LIMIT = int(os.environ.get("BOOKING_NO_SHOW_LIMIT", "3"))
BOOKING_NO_SHOW_WINDOW_DAYS = int(os.environ.get("BOOKING_NO_SHOW_WINDOW_DAYS", "90"))
BOOKING_NO_SHOW_RESTRICT_DAYS = int(os.environ.get("BOOKING_NO_SHOW_RESTRICT_DAYS", "30"))
BOOKING_CHECKIN_EARLY_MINUTES = int(os.environ.get("BOOKING_CHECKIN_EARLY_MINUTES", "60"))
BOOKING_CHECKIN_LATE_MINUTES = int(os.environ.get("BOOKING_CHECKIN_LATE_MINUTES", "15"))
# Rush protection (bookings/rush.py): per client (account, else address) booking POSTs and
# availability reads ("" turns a limit off); the waiting room opens within RUSH_WINDOW minutes
# of a release moment once more than RUSH_THRESHOLD booking requests arrive per second (0: never)
# and then admits RUSH_ADMIT_PER_SECOND clients a second in queue order.
BOOKING_RATE = os.environ.get("BOOKING_RATE", "10/m")
BOOKING_READ_RATE = os.environ.get("BOOKING_READ_RATE", "120/m")
BOOKING_RUSH_THRESHOLD = int(os.environ.get("BOOKING_RUSH_THRESHOLD", "100"))
BOOKING_RUSH_ADMIT_PER_SECOND = int(os.environ.get("BOOKING_RUSH_ADMIT_PER_SECOND", "50"))
BOOKING_RUSH_WINDOW_MINUTES = int(os.environ.get("BOOKING_RUSH_WINDOW_MINUTES", "10"))
# Cash escorts (护送, servicehall.escorts): request at least LEAD hours ahead; the duty station
# answers within RESPONSE hours (then the sweep escalates); the largest amount one request takes.
ESCORT_MIN_LEAD_HOURS = int(os.environ.get("ESCORT_MIN_LEAD_HOURS", "24"))
ESCORT_RESPONSE_HOURS = float(os.environ.get("ESCORT_RESPONSE_HOURS", "2"))
ESCORT_MAX_AMOUNT_YUAN = int(os.environ.get("ESCORT_MAX_AMOUNT_YUAN", "100000000"))

# --- notifications (servicehall.notify) -------------------------------------------------
# Gateways by dotted path: gateways.ConsoleGateway (log; embedded default), FileGateway
# (JSON lines, demos), SmtpEmailGateway (Django's EMAIL_* settings), HttpSmsGateway.
# E-mail for SmtpEmailGateway (Django's own settings, from the environment).
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "servicehall@localhost")
NOTIFY_SMS_GATEWAY = os.environ.get(
    "NOTIFY_SMS_GATEWAY", "servicehall.notify.gateways.ConsoleGateway"
)
NOTIFY_EMAIL_GATEWAY = os.environ.get(
    "NOTIFY_EMAIL_GATEWAY", "servicehall.notify.gateways.ConsoleGateway"
)
NOTIFY_FILE_PATH = Path(os.environ.get("NOTIFY_FILE_PATH", VAR_DIR / "notify" / "outbox.jsonl"))
NOTIFY_SMS_HTTP_URL = os.environ.get("NOTIFY_SMS_HTTP_URL", "")
NOTIFY_SMS_HTTP_API_KEY = os.environ.get("NOTIFY_SMS_HTTP_API_KEY", "")
NOTIFY_SMS_SENDER = os.environ.get("NOTIFY_SMS_SENDER", "")  # 短信签名, e.g. 【某市公安局】
# Shared secret the SMS provider signs delivery receipts with; empty disables receipts.
NOTIFY_SMS_RECEIPT_SECRET = os.environ.get("NOTIFY_SMS_RECEIPT_SECRET", "")
NOTIFY_RECEIPT_MAX_SKEW_SECONDS = int(os.environ.get("NOTIFY_RECEIPT_MAX_SKEW_SECONDS", "300"))
NOTIFY_EMAIL_FROM = os.environ.get("NOTIFY_EMAIL_FROM", "")  # empty: DEFAULT_FROM_EMAIL
NOTIFY_GATEWAY_TIMEOUT_SECONDS = float(os.environ.get("NOTIFY_GATEWAY_TIMEOUT_SECONDS", "10"))
# Retries: 30 s, 1, 2, 4 ... min capped at an hour (+ up to 20 % jitter); ~3 h in all.
NOTIFY_MAX_ATTEMPTS = int(os.environ.get("NOTIFY_MAX_ATTEMPTS", "10"))
NOTIFY_RETRY_BASE_SECONDS = int(os.environ.get("NOTIFY_RETRY_BASE_SECONDS", "30"))
NOTIFY_RETRY_MAX_SECONDS = int(os.environ.get("NOTIFY_RETRY_MAX_SECONDS", "3600"))
NOTIFY_RETRY_JITTER = float(os.environ.get("NOTIFY_RETRY_JITTER", "0.2"))
# A message left "sending" this long (its worker died) is picked up again.
NOTIFY_SENDING_TIMEOUT_SECONDS = int(os.environ.get("NOTIFY_SENDING_TIMEOUT_SECONDS", "300"))
NOTIFY_BATCH_SIZE = int(os.environ.get("NOTIFY_BATCH_SIZE", "20"))
NOTIFY_WORKER_INTERVAL_SECONDS = float(os.environ.get("NOTIFY_WORKER_INTERVAL_SECONDS", "5"))
NOTIFY_RETENTION_DAYS = int(os.environ.get("NOTIFY_RETENTION_DAYS", "180"))

# --- 12110 SMS gateways (servicehall.alarms) --------------------------------------------
# Inbound over HTTP: POST /sms/inbound/<name>/ signed with the secret of <name>, given as
# "name=secret,name2=secret2" (empty: no HTTP gateway accepts inbound messages).
ALARM_SMS_INBOUND_SECRETS = dict(
    pair.split("=", 1)
    for pair in os.environ.get("ALARM_SMS_INBOUND_SECRETS", "").split(",")
    if "=" in pair
)
ALARM_SMS_INBOUND_MAX_SKEW_SECONDS = int(
    os.environ.get("ALARM_SMS_INBOUND_MAX_SKEW_SECONDS", "300")
)
# Inbound and outbound over SMPP 3.4 (`manage.py run_smpp_receiver`; outbound with
# NOTIFY_SMS_GATEWAY=servicehall.alarms.gateways_smpp.SmppGateway).
ALARM_SMPP_HOST = os.environ.get("ALARM_SMPP_HOST", "127.0.0.1")
ALARM_SMPP_PORT = int(os.environ.get("ALARM_SMPP_PORT", "2775"))
ALARM_SMPP_SYSTEM_ID = os.environ.get("ALARM_SMPP_SYSTEM_ID", "")
ALARM_SMPP_PASSWORD = os.environ.get("ALARM_SMPP_PASSWORD", "")
ALARM_SMPP_SOURCE_ADDR = os.environ.get("ALARM_SMPP_SOURCE_ADDR", "12110")
ALARM_SMPP_TIMEOUT_SECONDS = float(os.environ.get("ALARM_SMPP_TIMEOUT_SECONDS", "30"))
ALARM_SMPP_RECONNECT_SECONDS = float(os.environ.get("ALARM_SMPP_RECONNECT_SECONDS", "5"))
# SMPP gives an inbound message no id: an SMSC's optional parameter that carries one (e.g.
# "receipted_message_id"), else redeliveries are recognised by content within this window.
ALARM_SMPP_MO_ID_TLV = os.environ.get("ALARM_SMPP_MO_ID_TLV", "")
ALARM_SMPP_DEDUPE_SECONDS = int(os.environ.get("ALARM_SMPP_DEDUPE_SECONDS", "300"))

# Registry: identity proofs for hotel guests without an ID card (未带身份证住宿).
# Confirmation by a station clerk: "always", "unmatched" (only when the registry cannot
# confirm the guest) or "never".
# The public same-name query, per client ("" turns the limit off, e.g. for the benchmark).
REGISTRY_NAME_QUERY_RATE = os.environ.get("REGISTRY_NAME_QUERY_RATE", "30/m")
# Extra endpoints for `make bench-names` (a constant answer, a naive count). Never in production.
SERVICEHALL_BENCH_ENDPOINTS = env_bool("SERVICEHALL_BENCH_ENDPOINTS")
REGISTRY_PROOF_CONFIRMATION = os.environ.get("REGISTRY_PROOF_CONFIRMATION", "unmatched")
REGISTRY_PROOF_VALID_HOURS = int(os.environ.get("REGISTRY_PROOF_VALID_HOURS", "24"))
REGISTRY_PROOF_RATE = os.environ.get("REGISTRY_PROOF_RATE", "30/h")
REGISTRY_PROOF_VERIFY_RATE = os.environ.get("REGISTRY_PROOF_VERIFY_RATE", "60/h")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}
