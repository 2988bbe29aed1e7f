"""``oidc-credential-chain doctor``: find the ambient identity, fetch its token, and explain why a
relying party would refuse it.

Example::

    from oidc_credential_chain.doctor import DoctorOptions, run_doctor
    report = run_doctor(DoctorOptions(aws_trust_policy="trust.json"))
    print(report.render_text())
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .ambient import Ambient, Detection, detect_ambient
    from .report import DoctorReport
    from .run import DoctorOptions, run_doctor

_LAZY = {
    "Ambient": ".ambient",
    "Detection": ".ambient",
    "detect_ambient": ".ambient",
    "DoctorReport": ".report",
    "DoctorOptions": ".run",
    "run_doctor": ".run",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


__all__ = ["Ambient", "Detection", "DoctorOptions", "DoctorReport", "detect_ambient", "run_doctor"]
