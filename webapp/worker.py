"""The background worker's entry point: `huey_consumer webapp.worker.huey -k thread -w 2`.

It builds the app from the same configuration as the web processes (instance/config.py and the
environment: DATABASE_URL, HUEY_URL or REDIS_URL, MAIL_*), so it reads the queue they write to.
`make run` starts it beside gunicorn (webapp/serving.py); production runs it as its own service
(docs/operations.md).
"""
import logging

from . import create_app

app = create_app()
# huey_consumer gives the "huey" logger its own handler; the app's root handler would print each line twice.
logging.getLogger("huey").propagate = False
huey = app.extensions["huey"]
