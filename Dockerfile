# One image for every carekpi service: migrations, the ETL scheduler, the dashboard (gunicorn).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY carekpi carekpi
COPY kpi kpi
COPY etl etl
COPY carekpi_demo carekpi_demo
COPY dashboard dashboard
COPY sql sql
COPY assets assets
# Editable: migrations (sql/) and assets/ are read from /app, beside the packages.
RUN pip install -e . && useradd --system --create-home --uid 10001 carekpi \
    && mkdir -p /data/inbox /data/archive /data/quarantine /data/run \
    && chown -R carekpi /data
USER carekpi
ENV CAREKPI_DATA_DIR=/data CAREKPI_BIND=0.0.0.0:8050
EXPOSE 8050
CMD ["gunicorn", "-c", "python:dashboard.gunicorn_conf", "dashboard.app:server"]
