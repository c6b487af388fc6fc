# Production image: the service only. PostgreSQL and Redis come from DATABASE_URL and REDIS_URL.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    TAXICRM_HOST=0.0.0.0 TAXICRM_PORT=8080 TAXICRM_LOG_FORMAT=json

WORKDIR /app
COPY pyproject.toml README.md ./
COPY taxicrm ./taxicrm
COPY subscribers ./subscribers
COPY callcenter ./callcenter
COPY dispatch ./dispatch
COPY realtime ./realtime
COPY feedback ./feedback
COPY reports ./reports
COPY migrations ./migrations
RUN pip install --no-cache-dir . \
    && useradd --system --uid 10001 taxicrm
USER taxicrm

EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/readyz').status != 200)"
CMD ["taxicrm", "serve"]
