"""Configuration defaults; instance/config.py and the environment override them."""
import os


class Defaults:
    """Settings every deployment starts from."""

    SQLALCHEMY_TRACK_MODIFICATIONS = False
    # Public base URL used in QR codes and in links sent to customers. Unset, the address the
    # staff member is using is taken (handy on a LAN in development); set it in production.
    PUBLIC_URL = None
    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "UTC"
    LANGUAGES = ("en", "zh")
    MAX_CONTENT_LENGTH = 25 * 1024 * 1024  # drawings can be large; images are checked separately
    MAX_IMAGE_PIXELS = 40_000_000
    # How long a request waits for SQLite's write lock before it answers 503 (webapp/transaction.py).
    SQLITE_BUSY_TIMEOUT_MS = 15_000
    # The same on PostgreSQL: how long a statement waits for a row or table lock (lock_timeout) before
    # the request answers 503 with Retry-After and the outbox tries again later.
    POSTGRES_LOCK_TIMEOUT_MS = 15_000
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session; phones stay open for days
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_DURATION = 60 * 60 * 24 * 30
    PERMANENT_SESSION_LIFETIME = 60 * 60 * 24 * 30
    # Only a change writes the session cookie. Otherwise every page the service worker fetches in the
    # background re-sends the cookie it started with and can undo a login or worker switch made
    # meanwhile (a signed-cookie session is last-writer-wins).
    SESSION_REFRESH_EACH_REQUEST = False
    # A person's login session (not a floor phone's, see FLOOR_IDLE_MINUTES) ends after this many minutes
    # unused, and this many days after the login whatever happens: a week covers a long holiday on a
    # worker's own phone; the month matches the cookie's lifetime. Lower both for office-only firms.
    SESSION_IDLE_MINUTES = 7 * 24 * 60
    SESSION_ABSOLUTE_DAYS = 30
    LOGIN_THROTTLE_MAX_FAILURES = 5
    LOGIN_THROTTLE_WINDOW_SECONDS = 15 * 60
    LINK_LIFETIME_DAYS = 14
    # The local certificate authority's page (/certificate, webapp/tls.py) for phones on a LAN served by
    # `make https`. Behind a proxy with a real certificate, set LOCAL_CA=0: the page is not served.
    LOCAL_CA = True
    # Floor phones (webapp/auth/floor.py): how long a supervisor's one-time enrolment code lives, how
    # long a worker stays switched in without using the phone, and enrolment attempts (how many, per
    # seconds) from one address and from everyone (an 8-digit code is not guessed in the minutes it lives).
    FLOOR_ENROL_MINUTES = 10
    FLOOR_IDLE_MINUTES = 30
    RATE_LIMIT_FLOOR_ENROL = (10, 15 * 60)
    RATE_LIMIT_FLOOR_ENROL_ALL = (100, 15 * 60)
    # Capability routes (/c/, /w/, /aftersales/c/, /b/; webapp/ratelimit.py): (how many, per seconds).
    # Unknown tokens from one address (guessing), then 429 on every capability route.
    RATE_LIMIT_BAD_TOKENS = (20, 15 * 60)
    # Posts through one link or label, and to capability routes from one address: a phone draining
    # 500 queued actions stays well inside.
    RATE_LIMIT_POSTS_PER_LINK = (1000, 60 * 60)
    RATE_LIMIT_POSTS_PER_ADDRESS = (2000, 60 * 60)
    # Late actions kept as conflicts through one used, replaced or expired link.
    RATE_LIMIT_CONFLICTS_PER_LINK = (10, 60 * 60)
    SYNC_KEY_RETENTION_DAYS = 45  # idempotency keys are kept at least 30 days (docs/architecture.md, the offline path)
    SYNC_MANIFEST_CAP = 40  # pages a phone keeps for offline use
    # Mail: "file" writes .eml files to instance/mail/ (development); "smtp" sends them.
    MAIL_BACKEND = "file"
    MAIL_SERVER = "localhost"
    MAIL_PORT = 25
    MAIL_USE_TLS = False
    MAIL_USERNAME = None
    MAIL_PASSWORD = None
    MAIL_DEFAULT_SENDER = "orders@example.com"
    # Background tasks (webapp/background.py): HUEY_URL redis://… or sqlite:///… (REDIS_URL also
    # chooses Redis); unset, a SQLite file in instance/. HUEY_IMMEDIATE runs tasks inline when they are
    # queued (None: when TESTING).
    HUEY_URL = None
    REDIS_URL = None
    # Uploads (webapp/storage.py): unset, folders under instance/ (UPLOAD_FOLDER); several app servers
    # share a bucket: "s3://bucket[/prefix]?endpoint=https://s3.example.com&region=…", with the
    # credentials in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (boto3 reads them itself).
    STORAGE_URL = None
    HUEY_IMMEDIATE = None
    # Behind reverse proxies, how many of them to believe for X-Forwarded-For/-Proto/-Host (the
    # client's address, HTTPS, the host). 0: none, the headers are ignored. PROXY_FIX=1 means 1.
    TRUSTED_PROXIES = 0
    PROXY_FIX = False
    # The session cookie is Secure on every HTTPS request anyway (webapp/https.py); True also marks it
    # Secure on plain HTTP, which then cannot log in.
    SESSION_COOKIE_SECURE = False
    # Carrier tracking (webapp/shipping/tracking.py): off unless the firm's account with the tracking
    # service is set. 快递100's real-time query: its URL, the account's key and customer id; how long
    # one query may take; how often the worker asks about shipments on the way (minutes).
    KUAIDI100_URL = "https://poll.kuaidi100.com/poll/query.do"
    KUAIDI100_KEY = None
    KUAIDI100_CUSTOMER = None
    TRACKING_TIMEOUT_SECONDS = 10
    # The customer's order page (aftersales/tracking.py) stays online this many days after the order
    # is closed or cancelled.
    TRACK_LINK_DAYS_AFTER_CLOSE = 180
    # Group robots (webapp/notify/robots.py) post only to their documented hosts over HTTPS
    # (qyapi.weixin.qq.com, oapi.dingtalk.com); hosts named here are allowed besides, over HTTP too
    # (a local test receiver, a relay in the firm's network). Comma-separated in the environment.
    CHAT_ROBOT_EXTRA_HOSTS = ()
    # SMS to customers (webapp/notify/sms.py): off unless SMS_PROVIDER = "aliyun" with the account's
    # AccessKey, an approved sign name and, per event, an approved template code
    # (SMS_TEMPLATES: {"shipment.dispatched": "SMS_123…"}, or "event=code,…" in the environment).
    SMS_PROVIDER = None
    ALIYUN_SMS_URL = "https://dysmsapi.aliyuncs.com/"
    ALIYUN_SMS_REGION = "cn-hangzhou"
    ALIYUN_SMS_ACCESS_KEY_ID = None
    ALIYUN_SMS_ACCESS_KEY_SECRET = None
    ALIYUN_SMS_SIGN_NAME = None
    SMS_TEMPLATES = {}
    # Staff sign-in through WeChat Work (企业微信) and DingTalk (钉钉), webapp/auth/external.py and
    # docs/sign_in.md: a provider's button shows on the login page once its app's ids and secret are
    # set. The URLs are the providers' own; tests point them at a local fake provider.
    WECOM_CORP_ID = None
    WECOM_AGENT_ID = None
    WECOM_SECRET = None
    WECOM_LOGIN_URL = "https://login.work.weixin.qq.com/wwlogin/sso/login"
    WECOM_OAUTH_URL = "https://open.weixin.qq.com/connect/oauth2/authorize"
    WECOM_API_URL = "https://qyapi.weixin.qq.com"
    DINGTALK_CLIENT_ID = None
    DINGTALK_CLIENT_SECRET = None
    DINGTALK_LOGIN_URL = "https://login.dingtalk.com/oauth2/auth"
    DINGTALK_API_URL = "https://api.dingtalk.com"
    # How long one call to a provider may take, and how long a started sign-in may take to come back.
    EXTERNAL_LOGIN_TIMEOUT_SECONDS = 10
    EXTERNAL_LOGIN_STATE_MINUTES = 10


ENV_KEYS = (
    "SECRET_KEY", "PUBLIC_URL", "MAIL_BACKEND", "MAIL_SERVER", "MAIL_PORT", "MAIL_USERNAME",
    "MAIL_PASSWORD", "MAIL_DEFAULT_SENDER", "MAIL_USE_TLS", "PROXY_FIX", "TRUSTED_PROXIES",
    "SESSION_COOKIE_SECURE", "LOCAL_CA", "SESSION_IDLE_MINUTES", "SESSION_ABSOLUTE_DAYS",
    "HUEY_URL", "REDIS_URL", "STORAGE_URL", "KUAIDI100_URL", "KUAIDI100_KEY", "KUAIDI100_CUSTOMER",
    "CHAT_ROBOT_EXTRA_HOSTS", "SMS_PROVIDER", "ALIYUN_SMS_URL", "ALIYUN_SMS_REGION", "ALIYUN_SMS_ACCESS_KEY_ID",
    "ALIYUN_SMS_ACCESS_KEY_SECRET", "ALIYUN_SMS_SIGN_NAME", "SMS_TEMPLATES",
    "WECOM_CORP_ID", "WECOM_AGENT_ID", "WECOM_SECRET", "WECOM_LOGIN_URL", "WECOM_OAUTH_URL", "WECOM_API_URL",
    "DINGTALK_CLIENT_ID", "DINGTALK_CLIENT_SECRET", "DINGTALK_LOGIN_URL", "DINGTALK_API_URL",
)
BOOLEAN_KEYS = ("MAIL_USE_TLS", "PROXY_FIX", "SESSION_COOKIE_SECURE", "LOCAL_CA")
INTEGER_KEYS = ("TRUSTED_PROXIES", "SESSION_IDLE_MINUTES", "SESSION_ABSOLUTE_DAYS")


def database_url(instance_path: str) -> str:
    """Return DATABASE_URL (PostgreSQL in production), else the SQLite file in instance/."""
    url = os.environ.get("DATABASE_URL")
    if url:
        # psycopg 3 is the driver; accept the common short forms.
        if url.startswith("postgres://"):
            url = "postgresql://" + url[len("postgres://"):]
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://"):]
        return url
    return "sqlite:///" + os.path.join(instance_path, "tracker.sqlite3")


def load_secret_key(instance_path: str) -> str:
    """Read the secret key from instance/, generating it on first run."""
    path = os.path.join(instance_path, "secret_key")
    if not os.path.exists(path):
        os.makedirs(instance_path, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(os.urandom(32).hex())
    with open(path) as fh:
        return fh.read().strip()
