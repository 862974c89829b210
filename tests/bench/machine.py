"""One line naming the machine a benchmark ran on: CPU, cores, RAM, OS, Python, date."""
from __future__ import annotations

import datetime
import os
import platform
import sys


def _first_field(path: str, key: str) -> str | None:
    try:
        with open(path) as handle:
            for line in handle:
                name, _, value = line.partition(":" if ":" in line else "=")
                if name.strip() == key:
                    return value.strip().strip('"')
    except OSError:
        pass
    return None


def cpu_model() -> str:
    model = _first_field("/proc/cpuinfo", "model name") or platform.processor() or platform.machine()
    flags = _first_field("/proc/cpuinfo", "flags") or ""
    return f"{model} (virtual machine)" if "hypervisor" in flags.split() else model


def memory_gib() -> str:
    total = _first_field("/proc/meminfo", "MemTotal")  # "24684084 kB"
    if total is None:
        return "RAM unknown"
    return f"{int(total.split()[0]) / (1 << 20):.0f} GiB RAM"


def operating_system() -> str:
    name = _first_field("/etc/os-release", "PRETTY_NAME") or platform.system()
    return f"{name}, kernel {platform.release()}"


def describe() -> str:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    python = f"{platform.python_implementation()} {platform.python_version()}"
    return (f"{cpu_model()}, {cores} cores, {memory_gib()}, {operating_system()}, {python} "
            f"({sys.executable}), {datetime.date.today().isoformat()}")


def load() -> str:
    """The load averages now, to say how busy the machine was around a benchmark."""
    if not hasattr(os, "getloadavg"):
        return "load average unknown"
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} (1, 5, 15 min) on {os.cpu_count()} CPUs"
