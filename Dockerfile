# syntax=docker/dockerfile:1

# Build a static binary.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=unknown
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath \
      -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" \
      -o /out/socialroute ./cmd/socialroute \
 && mkdir -p /out/data

# Run it as an unprivileged user on a minimal image, with the database on a
# volume.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/socialroute /usr/local/bin/socialroute
COPY config.example.yaml /etc/socialroute/config.example.yaml
# The volume's mount point belongs to the nonroot user (65532), so a fresh
# volume is writable for the database.
COPY --from=build --chown=65532:65532 /out/data /data
USER nonroot:nonroot
VOLUME ["/data"]
WORKDIR /data
ENV SOCIALROUTE_CONFIG=/etc/socialroute/config.yaml
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/socialroute"]
CMD ["serve"]
