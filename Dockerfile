# Production image: gunicorn serving lkmm.wsgi, static files served by WhiteNoise.
# Runtime configuration comes from the environment (README.md, "Settings"): at least SECRET_KEY,
# DATABASE_URL and ALLOWED_HOSTS. DEBUG is off in the image.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    DEBUG=off

RUN useradd --create-home --uid 10001 --user-group lkmm \
    && mkdir /data \
    && chown lkmm:lkmm /data

WORKDIR /app

# Dependencies first, in their own layer. pyproject.toml sets `packages = []`, so `pip install .`
# installs exactly the pinned [project].dependencies and none of the source (README.md is read
# for the package metadata). pip builds in the folder: drop its build leftovers in the same layer.
COPY pyproject.toml README.md ./
RUN pip install --no-cache-dir . \
    && rm -rf build lkmm.egg-info

# The source stays owned by root: the app user can read it but not change it.
COPY . .

# Translations use the committed locale/*/LC_MESSAGES/*.mo (the image has no gettext).
# collectstatic imports the settings, which need a SECRET_KEY when DEBUG is off: a throwaway one
# for this build step only; it is not kept in the image's environment.
RUN SECRET_KEY=build-only-collectstatic-key-not-used-at-runtime \
    python manage.py collectstatic --noinput

# Numeric, so an orchestrator can check runAsNonRoot; 10001 is the lkmm user made above.
USER 10001:10001
EXPOSE 8000
# --timeout above DB_STATEMENT_TIMEOUT_MS (30 s): PostgreSQL cancels a slow query before gunicorn kills
# the worker and leaves the query running (docs/deploy-postgresql.md).
CMD ["gunicorn", "lkmm.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "60", "--access-logfile", "-"]
