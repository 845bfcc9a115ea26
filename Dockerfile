# The hub image used by docker-compose.yml.
FROM python:3.11-slim
WORKDIR /app
COPY setup.cfg pyproject.toml README.md ./
COPY exchange ./exchange
COPY connectors ./connectors
COPY schemas ./schemas
# The redis extra: rate-limit counters shared by the hub instances (docker-compose.yml).
RUN pip install --no-cache-dir '.[redis]'
# The data directory of docker-compose.yml: the runtime user writes the hub's and the first
# administrator's keys there (`exchange init`), so it must own it before dropping root. A
# named volume mounted on the keys folder starts with this ownership.
RUN mkdir -p /var/lib/exchange/keys && chown -R nobody:nogroup /var/lib/exchange
USER nobody
EXPOSE 8080
CMD ["exchange", "serve"]
