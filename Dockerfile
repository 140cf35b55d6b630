# The lendflow binary in a small image; docker-compose.yml runs it as
# `lendflow api|worker|bank|migrate`.
ARG GO_VERSION=1.26

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# Static binary; timetzdata embeds Asia/Shanghai for wall-clock mode.
RUN CGO_ENABLED=0 go build -trimpath -tags timetzdata -ldflags="-s -w" -o /out/lendflow ./cmd/lendflow

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/lendflow /usr/local/bin/lendflow
USER nonroot:nonroot
EXPOSE 8080 8090
ENTRYPOINT ["/usr/local/bin/lendflow"]
CMD ["api"]
