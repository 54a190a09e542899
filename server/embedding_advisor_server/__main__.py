"""``advise-server`` (also ``advise serve``): run the advisor service until SIGINT or SIGTERM."""

from __future__ import annotations

import logging
import signal
import sys
import threading

from pydantic import ValidationError

from .settings import SettingsError, parse


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if "--version" in args:
        from . import __version__

        print(f"advise-server {__version__}")
        return 0
    try:
        settings = parse(args)
    except ValidationError as exc:  # one line per bad setting, never the value (it may be a secret)
        for line in SettingsError(exc).lines:
            print(f"advise-server: {line}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # The event loop answers health itself, but it takes the interpreter lock in turn with the
    # handler threads: a shorter turn bounds its wait behind them (benchmarks/load.py).
    sys.setswitchinterval(settings.gil_switch_ms / 1000)
    from .app import AdvisorServer
    from .core.jobs.lease import hold_alone

    # One server per data dir (``advise`` commands, with their embedded servers, may share it).
    if hold_alone(settings.data_dir / "server.lock") is None:
        print(
            f"advise-server: another advise-server is already serving {settings.data_dir}; "
            "give this one its own --data-dir (ADVISOR_DATA_DIR)",
            file=sys.stderr,
        )
        return 2
    try:
        server = AdvisorServer(settings)
    except (ValueError, OSError) as exc:  # bad tokens or TLS files: say which, no traceback
        print(f"advise-server: {exc}", file=sys.stderr)
        return 2
    stopping = threading.Event()

    def on_signal(signum, frame) -> None:
        logging.getLogger(__name__).info("signal %d: shutting down", signum)
        stopping.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    port = server.start()
    print(f"advise-server listening on {settings.host}:{port}", flush=True)
    stopping.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
