"""``privault relay``: the SMTP relay in front of the company's mail server.

It serves until interrupted; each message's decision is audited by the relay itself
(actor ``relay``), so the command is classified as a read.
"""

from __future__ import annotations

import signal
import ssl
import threading
import time
from pathlib import Path
from typing import Literal

import typer

from privault.cli.context import settings, stderr
from privault.errors import N_, InvalidInput
from privault.relay import RelayConfig, Upstream, networks
from privault.runtime import open_vault

DEFAULT_MAX_SIZE = 25 * 1024 * 1024


def host_port(value: str, option: str) -> tuple[str, int]:
    """``HOST:PORT`` or ``[IPV6]:PORT``."""
    host, sep, port = value.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise InvalidInput(N_("%(option)s takes HOST:PORT."), option=option)
    return host, int(port)


def relay(
    ctx: typer.Context,
    listen: str = typer.Option("127.0.0.1:2525", "--listen", help="HOST:PORT to listen on."),
    upstream: str = typer.Option(..., "--upstream", help="HOST:PORT of the mail server."),
    trusted_mta: list[str] = typer.Option(
        [], "--trusted-mta", help="CIDR of MTAs whose envelope sender names the asker."
    ),
    allow_from: list[str] = typer.Option(
        [], "--allow-from", help="CIDR allowed to connect (loopback always is)."
    ),
    scan_timeout: float = typer.Option(
        20.0, "--scan-timeout", min=0.1, help="Seconds before a scan gives 451 4.3.0."
    ),
    tls_cert: Path | None = typer.Option(None, "--tls-cert", help="Certificate for STARTTLS."),
    tls_key: Path | None = typer.Option(None, "--tls-key", help="Private key for STARTTLS."),
    upstream_tls: str = typer.Option(
        "starttls", "--upstream-tls", help="starttls (required, verified) or none."
    ),
    max_size: int = typer.Option(
        DEFAULT_MAX_SIZE, "--max-size", min=1024, help="Largest message in bytes (SIZE)."
    ),
) -> None:
    """Scan outgoing mail for customer data before it reaches the mail server."""
    from privault.relay.wiring import build_relay

    host, port = host_port(listen, "--listen")
    up_host, up_port = host_port(upstream, "--upstream")
    if upstream_tls not in ("starttls", "none"):
        raise InvalidInput(N_("--upstream-tls takes starttls or none."))
    if (tls_cert is None) != (tls_key is None):
        raise InvalidInput(N_("Give both --tls-cert and --tls-key, or neither."))
    try:
        allowed, trusted = networks(allow_from), networks(trusted_mta)
    except ValueError:
        raise InvalidInput(N_("--allow-from and --trusted-mta take CIDR networks.")) from None
    context = None
    if tls_cert is not None and tls_key is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        try:
            context.load_cert_chain(tls_cert, tls_key)
        except (OSError, ssl.SSLError):
            raise InvalidInput(N_("The TLS certificate or key could not be loaded.")) from None
    config = RelayConfig(
        host=host,
        port=port,
        allow_from=allowed,
        trusted_mta=trusted,
        scan_timeout=scan_timeout,
        max_size=max_size,
        tls_context=context,
    )
    mode: Literal["starttls", "none"] = "none" if upstream_tls == "none" else "starttls"
    started = time.monotonic()
    with open_vault(settings(ctx)) as vault:
        relay_ = build_relay(vault, config, Upstream(up_host, up_port, mode))
        relay_.start()
        stderr.print(
            f"privault relay: listening on {host}:{port} after "
            f"{time.monotonic() - started:.2f} s; upstream {up_host}:{up_port} ({mode})"
        )
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            ready = relay_.decider.ready()
            stderr.print(
                f"privault relay: exact-match index {'ready' if ready else 'FAILED'} after "
                f"{time.monotonic() - started:.2f} s"
            )
            stop.wait()
        except KeyboardInterrupt:
            pass
        finally:
            relay_.stop()


def register(app: typer.Typer) -> None:
    app.command("relay")(relay)
