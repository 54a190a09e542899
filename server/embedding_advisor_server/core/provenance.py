"""Where an advice came from: the server's version, the machine, and the options as resolved (the
server's defaults in place of what the caller left unset). It goes into every recommendation."""

from __future__ import annotations

import functools
import os
import platform

from .schema import AdviceOptions, Machine, RunInfo


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            return next((line.split(":", 1)[1].strip() for line in fh if "model name" in line), "")
    except OSError:
        return platform.processor()


def _memory_gib() -> float:
    try:
        return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        return 0.0


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 0


@functools.cache
def machine() -> Machine:
    """This machine, read once per process."""
    import torch

    from .backends.precision import cpu_bf16_units

    accelerator = torch.cuda.get_device_name(0) if torch.cuda.is_available() else ""
    return Machine(
        cpu=_cpu_model(),
        cpu_cores=_cores(),
        memory_gib=_memory_gib(),
        accelerator=accelerator,
        bf16_units=cpu_bf16_units(),
        python=platform.python_version(),
        torch=torch.__version__,
        platform=platform.platform(),
    )


def run_info(
    version: str, dataset_id: str, test_dataset_id: str | None, resolved: AdviceOptions
) -> RunInfo:
    return RunInfo(
        server_version=version,
        dataset_id=dataset_id,
        test_dataset_id=test_dataset_id or "",
        options=resolved,
        machine=machine(),
    )
