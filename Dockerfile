# emg in a container: emgd with the packaged layout (/etc/emg, /var/lib/emg, /var/log/emg,
# /run/emg), running as the unprivileged user emg.
#
#   docker build -t emg .
#   docker run -d --name emg -v emg-data:/var/lib/emg -v $PWD/emg.toml:/etc/emg/emg.toml:ro \
#       -p 2775:2775 emg
#   docker exec emg emgclient connectors        # over the local socket, as emgd's user: admin
#   docker kill --signal HUP emg                # reload, reopen the logs
#
# A container has no systemd: docker's restart policy (--restart unless-stopped) restarts
# emgd when it dies; `emgd watchdog` as the command instead adds the MGP API for start/stop
# and disk alerts (man emgd-watchdog).

FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p emgd -p emgclient

FROM debian:bookworm-slim
RUN groupadd --system emg \
    && useradd --system --gid emg --home-dir /var/lib/emg --no-create-home \
        --shell /usr/sbin/nologin emg \
    && install -d -o emg -g emg -m 0750 /var/lib/emg /var/log/emg \
    && install -d -o emg -g emg -m 0755 /run/emg \
    && install -d -o root -g emg -m 0750 /etc/emg
COPY --from=build /src/target/release/emgd /src/target/release/emgclient /usr/bin/
COPY --chown=root:emg --chmod=0640 packaging/emg.toml /etc/emg/emg.toml
USER emg
VOLUME ["/var/lib/emg", "/var/log/emg"]
EXPOSE 2775 8080
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/emgd"]
CMD ["--config", "/etc/emg/emg.toml"]
