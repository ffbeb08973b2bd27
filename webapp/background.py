"""Background work with Huey: what a request leaves for later (mail) and what runs on a schedule.

A module declares its tasks with `@background.task(...)` or `@background.periodic(crontab(...))`;
`init_app()` gives each app its own Huey (app.extensions["huey"]) and registers every declared task
on it, wrapped so that it runs inside that app's context. Callers write `some_task.enqueue(...)`.

Storage: a SQLite file in instance/ (huey.sqlite3) by default; HUEY_URL (redis://… or
sqlite:///…) or REDIS_URL chooses another. The consumer is its own process
(`huey_consumer webapp.worker.huey`); `make run` starts it beside gunicorn (webapp/serving.py).
With HUEY_IMMEDIATE (on by default when TESTING) a task runs inline when it is enqueued, so tests
see its effect at once.

Per app and not one module-level Huey: tests build many apps in one process (immediate ones and,
for the consumer test, one on a real queue file), and each must keep its own storage.
"""
import functools
import os
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Flask, current_app
from huey import RedisHuey, SqliteHuey, crontab  # noqa: F401  (crontab: for periodic() callers)

from .https import tighten_sqlite

HUEY_NAME = "tracker"


@dataclass
class BackgroundTask:
    """A declared task: call .enqueue(*args) to run it in the worker (inline in immediate mode)."""

    name: str
    func: Callable
    options: dict = field(default_factory=dict)
    schedule: Callable | None = None  # a huey crontab for periodic tasks

    def enqueue(self, *args, **kwargs):
        """Queue the task for the current app's worker; arguments must pickle."""
        huey = current_app.extensions["huey"]
        if huey.immediate:
            # The worker gets the arguments pickled; check they would travel even when they don't.
            huey.serializer.serialize((args, kwargs))
        registered = current_app.extensions["huey_tasks"].get(self.name)
        if registered is None:
            # The worker would not know it either: declare tasks in modules create_app() imports.
            raise LookupError(f"background task {self.name} was declared after the app was made")
        return registered(*args, **kwargs)

    def __call__(self, *args, **kwargs):
        """Run the task here and now (the worker's wrapper adds the app context)."""
        return self.func(*args, **kwargs)


TASKS: dict[str, BackgroundTask] = {}


def task(*, retries: int = 0, retry_delay: int = 0, retry_backoff: float = 0):
    """Declare a background task. retry_delay (seconds) is multiplied by retry_backoff after
    each failed try (2 doubles it), up to retries more tries. Its queue name is its module and
    function name: renaming or moving it strands what is queued under the old name."""
    def declare(func: Callable) -> BackgroundTask:
        declared = BackgroundTask(f"{func.__module__}.{func.__name__}", func,
                                  dict(retries=retries, retry_delay=retry_delay, retry_backoff=retry_backoff))
        TASKS[declared.name] = declared
        return declared
    return declare


def periodic(schedule: Callable):
    """Declare a task the worker runs on a schedule, e.g. periodic(crontab(minute="30", hour="3"))
    (the crontab is in UTC; the worker started with --no-periodic skips them)."""
    def declare(func: Callable) -> BackgroundTask:
        declared = BackgroundTask(f"{func.__module__}.{func.__name__}", func, schedule=schedule)
        TASKS[declared.name] = declared
        return declared
    return declare


def init_app(app: Flask) -> None:
    """Give the app its Huey and register every declared task on it (call after the blueprints,
    which import the modules that declare tasks)."""
    huey = make_huey(app)
    app.extensions["huey"] = huey
    app.extensions["huey_tasks"] = {}
    for declared in TASKS.values():
        register(app, declared)


def register(app: Flask, declared: BackgroundTask) -> None:
    """Register one declared task on the app's Huey, running in the app's context."""
    huey = app.extensions["huey"]

    @functools.wraps(declared.func)
    def in_app_context(*args, **kwargs):
        with app.app_context():
            return declared.func(*args, **kwargs)

    # Huey names it module.function (from functools.wraps), as declared.name.
    if declared.schedule is not None:
        wrapper = huey.periodic_task(declared.schedule)(in_app_context)
    else:
        wrapper = huey.task(**declared.options)(in_app_context)
    app.extensions["huey_tasks"][declared.name] = wrapper


def make_huey(app: Flask):
    """The app's Huey: HUEY_URL or REDIS_URL if set, else a SQLite file in instance/."""
    config = app.config
    immediate = config.get("HUEY_IMMEDIATE")
    if immediate is None:
        immediate = bool(config.get("TESTING"))
    url = config.get("HUEY_URL") or config.get("REDIS_URL")
    if url and url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey(HUEY_NAME, url=url, immediate=immediate, results=False)
    if url and url.startswith("sqlite:///"):
        path = url[len("sqlite:///"):]
    elif url:
        raise ValueError(f"HUEY_URL must start with redis://, rediss://, unix:// or sqlite:///, not {url!r}")
    else:
        path = os.path.join(app.instance_path, "huey.sqlite3")
    if immediate:  # in-memory: no file is made (Huey's immediate mode stores nothing on disk)
        return SqliteHuey(HUEY_NAME, filename=path, immediate=True, results=False)
    tighten_sqlite("sqlite:///" + path)  # queued mail holds customers' links: owner-only, like the database
    return SqliteHuey(HUEY_NAME, filename=path, results=False)
