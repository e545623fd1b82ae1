# spike as a container image: a static binary on distroless/static (CA
# certificates and a non-root user, no shell). Build with `make image`, or:
#
#   docker build --build-arg VERSION=v1.2.0 -t spike .
#   docker run --rm -v "$PWD:/work" -w /work spike run scenario.yaml --target https://staging.example.com
#
# Stage 1 builds with the Go toolchain go.mod asks for.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=devel
ARG COMMIT=
ARG DATE=
# CGO off: the SQLite of the example app is pure Go, so the binary is static.
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT} -X main.date=${DATE}" \
      -o /out/spike ./cmd/spike

# Stage 2: just the binary. distroless/static carries /etc/ssl/certs for
# HTTPS targets and runs as uid 65532.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/spike /usr/local/bin/spike
WORKDIR /work
ENTRYPOINT ["/usr/local/bin/spike"]
CMD ["--help"]
