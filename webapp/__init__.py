"""The order-lifecycle tracker: create_app() reads as the table of contents."""
import logging
import os
import uuid

from flask import Flask, g, request

from . import assets, capabilities, compression, config as config_module, https, inputs, ratelimit
from .extensions import babel, csrf, db, login_manager, migrate

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def create_app(test_config: dict | None = None) -> Flask:
    """Build the application: config → extensions → blueprints → cli → errors."""
    from .transaction import TrackerApp
    app = TrackerApp(__name__, instance_relative_config=True,
                template_folder=os.path.join(ROOT, "templates"),
                static_folder=os.path.join(ROOT, "static"))
    https.owner_only_files(app)
    configure(app, test_config)
    assets.init_app(app)  # content-hashed static names (before the blueprints: the worker's routes build them)
    compression.init_app(app)  # first of the after-request hooks, so the last to run: it sees the final body
    inputs.init_app(app)  # hostile input: cleaned text, checked headers, bounded route converters
    https.trust_proxies(app)
    app.session_interface = https.PerRequestSecureSession()
    register_extensions(app)
    register_request_hooks(app)
    ratelimit.init_app(app)  # first of the request hooks (it writes its counters on the side)
    register_blueprints(app)
    from .sync.replay import check_decorator_order
    check_decorator_order(app)
    register_template_helpers(app)
    register_cli(app)
    register_background(app)
    register_errors(app)
    capabilities.register_logging(app)  # after the blueprints: it reads their token routes
    return app


def configure(app: Flask, test_config: dict | None) -> None:
    """Defaults, then instance/config.py, then the environment, then test overrides."""
    app.config.from_object(config_module.Defaults)
    app.config.from_pyfile("config.py", silent=True)
    for key in config_module.ENV_KEYS:
        if key in os.environ:
            value = os.environ[key]
            if key in config_module.BOOLEAN_KEYS:
                value = value.strip().lower() in ("1", "true", "yes", "on")
            elif key in config_module.INTEGER_KEYS:
                value = int(value.strip() or 0)
            app.config[key] = value
    if "SQLALCHEMY_DATABASE_URI" not in app.config:
        app.config["SQLALCHEMY_DATABASE_URI"] = config_module.database_url(app.instance_path)
    if test_config:
        app.config.update(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = config_module.load_secret_key(app.instance_path)
    app.config.setdefault("UPLOAD_FOLDER", os.path.join(app.instance_path, "uploads"))
    app.config.setdefault("MAIL_FOLDER", os.path.join(app.instance_path, "mail"))
    https.tighten_sqlite(app.config["SQLALCHEMY_DATABASE_URI"])
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # Writers wait for each other instead of failing at once.
        _engine_defaults(app, {"connect_args": {"timeout": 15}})
    elif app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        # pool_pre_ping: after the server restarted, a pooled connection that died with it is noticed
        # and replaced before a request uses it, so the app recovers by itself. lock_timeout: a request
        # stuck behind a lock gives up (503, Retry-After) instead of waiting for ever.
        timeout = int(app.config["POSTGRES_LOCK_TIMEOUT_MS"])
        _engine_defaults(app, {"pool_pre_ping": True, "connect_args": {"options": f"-c lock_timeout={timeout}"}})


def _engine_defaults(app: Flask, defaults: dict) -> None:
    """Merge our engine options under the firm's own SQLALCHEMY_ENGINE_OPTIONS (a pool size set in
    instance/config.py must not silently drop pool_pre_ping or the lock timeout); theirs win."""
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    for key, value in defaults.items():
        if isinstance(value, dict):
            options[key] = {**value, **(options.get(key) or {})}
        else:
            options.setdefault(key, value)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def register_extensions(app: Flask) -> None:
    """Bind the extensions and the SQLite connection rules."""
    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(HERE, "migrations"), render_as_batch=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    # "basic": a phone switching between Wi-Fi and 4G must stay logged in (docs/architecture.md, rules).
    login_manager.session_protection = "basic"
    from flask_babel import lazy_gettext as _l
    login_manager.login_message = _l("Please log in to open this page.")
    from .i18n import install_template_gettext, select_locale, select_timezone, use_our_words_in_forms
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone,
                   default_translation_directories=os.path.join(HERE, "translations"))
    install_template_gettext(app)
    app.before_request(use_our_words_in_forms)
    from . import storage, transaction
    transaction.init_app(app)
    storage.init_app(app)


def register_request_hooks(app: Flask) -> None:
    """Request ids and security headers (the commit at the edge is in transaction.py)."""

    @app.before_request
    def start_request():
        g.request_id = request.headers.get("X-Request-Id", "")[:40] or uuid.uuid4().hex

    @app.after_request
    def finish_request(response):
        if g.get("offline_keep") and response.status_code == 200:
            response.headers["X-Offline-Keep"] = "1"  # the service worker keeps a copy (static/js/sw.js)
        secure_headers(response)
        return response


CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
       "form-action 'self'; frame-ancestors 'none'; manifest-src 'self'")


def secure_headers(response) -> None:
    """A strict CSP (no unsafe-inline, no unsafe-eval) and the usual hardening headers."""
    policy = CSP
    if g.get("csp_wasm"):
        # Scanner pages only: the vendored barcode decoder is WebAssembly.
        policy = policy.replace("script-src 'self'", "script-src 'self' 'wasm-unsafe-eval'")
    hashes = g.get("csp_script_hashes")
    if hashes:
        # The page's import map (webapp/assets.py): inline, so allowed by its hash alone.
        policy = policy.replace("script-src 'self'", "script-src 'self' " + " ".join(sorted(hashes)), 1)
    response.headers.setdefault("Content-Security-Policy", policy)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if request.is_secure:  # over HTTPS, directly or through a trusted proxy (https.trust_proxies)
        response.headers.setdefault("Strict-Transport-Security", https.HSTS)
    if capabilities.is_capability_request():
        # Link and label pages carry a credential in their URL and show prices, consent and
        # addresses: no cache keeps them, and no Referer hands their URL to another site.
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "no-referrer"
    elif response.cache_control.public and request.endpoint != "static":
        # Only the app's own static files are for shared caches; photos and files behind a login
        # are for this browser only.
        response.cache_control.public = False
        response.cache_control.private = True
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Permissions-Policy", "geolocation=(self), camera=(self), microphone=()")
    response.headers["X-Request-Id"] = g.get("request_id", "")


def domains() -> tuple:
    """The domain packages, in the order their blueprints are registered: the one place that names
    them. Importing one registers what it has (webapp/registry.py); its init_app attaches its pages."""
    from . import (admin, aftersales, api, auth, costing, customers, documents, golive, kpi, main, orders, production,
                   projects, public, purchasing, pwa, quality, receivables, relations, requirements, retail, reviews,
                   scan, shipping, stock, sync)
    return (
        auth,
        main,
        customers,
        requirements,
        stock,
        purchasing,
        orders,
        admin,
        documents,  # adds its PDF routes to the shipping, projects and public blueprints, registered after it
        production,
        quality,
        shipping,
        projects,  # service projects: deliverables and the customer's acceptance
        retail,  # retail orders from the counter or an online shop, shipped from stock
        aftersales,
        costing,
        receivables,  # invoices, payments matched, statements, ageing: over orders, shipping, costing
        reviews,  # review meetings (复盘) and their improvement actions, over costing's causes
        public,
        pwa,
        scan,
        kpi,  # the six KPIs: reads every stage, nothing reads it
        relations,  # the customer page: one customer whole, with the KPIs' definitions
        golive,  # going live: the Excel templates and their import
        api,  # the JSON API: reads and writes through every domain's services, nothing reads it
        sync,
    )


def register_blueprints(app: Flask) -> None:
    """Every domain's pages, then the shared photo gate and the local certificate authority."""
    for domain in domains():
        domain.init_app(app)
    from . import photos, tls
    tls.init_app(app)  # /certificate (unless LOCAL_CA=0), `flask tls`, `flask serve-https`
    app.register_blueprint(photos.bp)


def register_template_helpers(app: Flask) -> None:
    """Filters and globals the templates use."""
    from . import templating
    templating.init_app(app)


def register_cli(app: Flask) -> None:
    """flask demo, go-live, backup, user create."""
    from . import cli
    cli.init_app(app)


def register_background(app: Flask) -> None:
    """The app's Huey and every declared background task (after the blueprints, whose modules
    declare them): mail delivery, the nightly purges."""
    from . import background
    from .notify import mail as _mail  # noqa: F401  (declares the mail task)
    from . import webhooks  # declares the delivery tasks; turns audit events into webhook events
    webhooks.listen()
    background.init_app(app)


def register_errors(app: Flask) -> None:
    """Translated error pages with the right status; never a stack trace."""
    from . import errors
    errors.init_app(app)
    if not app.debug and not app.testing:
        logging.basicConfig(level=logging.INFO)
