# The hub image used by docker-compose.yml.
FROM python:3.11-slim
WORKDIR /app
COPY setup.cfg pyproject.toml README.md ./
COPY exchange ./exchange
COPY connectors ./connectors
COPY schemas ./schemas
# The redis extra: rate-limit counters shared by the hub instances (docker-compose.yml).
RUN pip install --no-cache-dir '.[redis]'
USER nobody
EXPOSE 8080
CMD ["exchange", "serve"]
