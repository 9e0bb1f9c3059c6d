# Build a static walrelay binary, then ship it alone on a distroless base as a
# non-root user.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/walrelay .

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/walrelay /usr/local/bin/walrelay
USER nonroot:nonroot
WORKDIR /var/lib/walrelay
VOLUME ["/var/lib/walrelay"]
ENV WALRELAY_DATA_DIR=/var/lib/walrelay
ENTRYPOINT ["/usr/local/bin/walrelay"]
CMD ["run", "--config", "/etc/walrelay/walrelay.yaml"]
