# Finishline's production image: the release binary and its site folder, both built
# beforehand on the host by `cargo leptos build --release` (scripts/image does both steps).
# See docs/deploy.md, "A container image".
FROM debian:bookworm-slim

# The binary links only libc, libm and libgcc_s, which the base image has. Webhooks and alert
# emails check the server's certificate against the system store: hence ca-certificates.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/*

# The server needs no privileges. A fixed uid, so a host folder mounted as the data directory
# can be given to it (chown 10001).
RUN groupadd --gid 10001 finishline \
 && useradd --uid 10001 --gid finishline --home-dir /var/lib/finishline \
      --no-create-home --shell /usr/sbin/nologin finishline \
 && install -d -o finishline -g finishline -m 0750 /var/lib/finishline

# Owned by root, so the server cannot change its own code or pages.
COPY target/release/finishline /usr/local/bin/finishline
COPY target/site /opt/finishline/site

ENV LEPTOS_SITE_ROOT=/opt/finishline/site \
    LEPTOS_SITE_ADDR=0.0.0.0:3000 \
    LEPTOS_ENV=PROD \
    FINISHLINE_DATA_DIR=/var/lib/finishline

# The embedded SQLite database lives here unless DATABASE_URL names PostgreSQL. A volume, so
# the data outlives the container.
VOLUME /var/lib/finishline
WORKDIR /var/lib/finishline
USER finishline
EXPOSE 3000

# No HEALTHCHECK: the image has no HTTP client. The proxy or orchestrator should probe
# GET /healthz on port 3000 (200 while the server reaches its database).
ENTRYPOINT ["finishline"]
CMD ["serve"]
