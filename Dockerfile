# syntax=docker/dockerfile:1
#
# MediaVault gateway image: the `mediavault` binary (REST API, port 4000).
#
#   docker build -t mediavault .
#   docker run --rm -p 4000:4000 --env-file .env mediavault            # serve (default)
#   docker run --rm --env-file .env mediavault migrate                  # apply migrations and exit
#
# The build stage compiles a release binary with the Swift standard library and Foundation linked in
# statically; the runtime stage is Debian slim with only the shared libraries that binary still loads.

ARG SWIFT_VERSION=6.1
ARG DEBIAN_RELEASE=bookworm

FROM swift:${SWIFT_VERSION}-${DEBIAN_RELEASE} AS build
WORKDIR /build

# Dependencies first, in their own layer: it is rebuilt only when Package.swift changes.
COPY Package.swift ./
RUN swift package resolve

# Then the sources (.dockerignore keeps docs, scripts, secrets and build output out of the context).
COPY . .
# Debug info is stripped (about a third of the size); the symbol table stays, so crash backtraces keep their
# function names. swift-backtrace-static symbolicates them for the statically linked binary.
RUN swift build -c release --static-swift-stdlib --product mediavault \
    && install -D -m 0755 "$(swift build -c release --show-bin-path)/mediavault" /out/mediavault \
    && strip --strip-debug /out/mediavault \
    && install -m 0755 /usr/libexec/swift/linux/swift-backtrace-static /out/swift-backtrace-static

FROM debian:${DEBIAN_RELEASE}-slim AS runtime

ARG VERSION=dev
ARG REVISION=unknown
LABEL org.opencontainers.image.title="mediavault" \
      org.opencontainers.image.description="MediaVault gateway: REST API for sign-in, media and collections" \
      org.opencontainers.image.vendor="MediaVault" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.documentation="docs/deployment.md"

# ca-certificates: TLS to Discord, S3 and PostgreSQL. tzdata: time zones for Foundation.
# libxml2: FoundationXML (S3 XML documents). libstdc++6, zlib1g: still loaded by a --static-swift-stdlib binary.
# curl: the HEALTHCHECK below (and a handy probe for operators).
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates tzdata libxml2 libstdc++6 zlib1g curl \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 mediavault \
    && useradd --system --uid 10001 --gid mediavault --home-dir /var/lib/mediavault --create-home \
        --shell /usr/sbin/nologin mediavault

COPY --from=build /out/ /usr/local/bin/

# The working directory holds a mounted .env (optional) and, with STORAGE_BACKEND=filesystem, the stored files.
WORKDIR /var/lib/mediavault
ENV MEDIAVAULT_ENV=production \
    SWIFT_BACKTRACE=enable=yes,interactive=no,swift-backtrace=/usr/local/bin/swift-backtrace-static \
    LOG_FORMAT=json \
    HTTP_HOST=0.0.0.0 \
    HTTP_PORT=4000

USER 10001:10001
EXPOSE 4000

# /healthz is liveness only (process up); /readyz also checks PostgreSQL and belongs to load balancers.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["/bin/sh", "-c", "curl -fsS -m 4 -o /dev/null http://127.0.0.1:${HTTP_PORT:-4000}/healthz || exit 1"]

STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/mediavault"]
CMD ["serve"]
