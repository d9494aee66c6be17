# One image for both services: the ETL scheduler and the dashboard under gunicorn.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY carekpi carekpi
COPY kpi kpi
COPY etl etl
COPY carekpi_demo carekpi_demo
COPY dashboard dashboard
COPY sql sql
COPY assets assets
RUN pip install --no-cache-dir -e .
ENV CAREKPI_DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 8050
CMD ["gunicorn", "--bind", "0.0.0.0:8050", "--workers", "2", "dashboard.app:server"]
