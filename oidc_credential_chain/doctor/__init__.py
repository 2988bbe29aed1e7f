"""``oidc-credential-chain doctor``: find the ambient identity, fetch its token, and explain why a
relying party would refuse it.

Example::

    from oidc_credential_chain.doctor import DoctorOptions, run_doctor
    report = run_doctor(DoctorOptions(aws_trust_policy="trust.json"))
    print(report.render_text())
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._internal.lazy import lazy_exports

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

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())


__all__ = ["Ambient", "Detection", "DoctorOptions", "DoctorReport", "detect_ambient", "run_doctor"]
