"""pip-audit --strict over this virtualenv, when a vulnerability database is reachable.

Run with the virtualenv's Python (`make pip-audit`, .ci/run): `.venv/bin/python .ci/pip_audit.py`.

A vulnerability database counts as reachable only when it names the known vulnerabilities of a
release that has some (Django 4.2.0): a mirror that answers every package with an empty list, or not
at all, would otherwise pass every audit. PyPI's JSON API is tried first, then OSV. When neither
answers, this prints that the dependencies were NOT checked and exits 0, so CI without a network still
runs; when one does, any known vulnerability (or a dependency it cannot audit: --strict) fails.
"""

import json
import subprocess
import sys
import urllib.request
from pathlib import Path

TIMEOUT = 15  # seconds per probe
PROBES = {
    # service name for pip-audit -s: (request, how to read the vulnerabilities from the answer)
    "pypi": (
        urllib.request.Request("https://pypi.org/pypi/Django/4.2/json"),
        lambda answer: answer.get("vulnerabilities") or [],
    ),
    "osv": (
        urllib.request.Request(
            "https://api.osv.dev/v1/query",
            data=json.dumps({"package": {"name": "django", "ecosystem": "PyPI"}, "version": "4.2"}).encode(),
            headers={"Content-Type": "application/json"},
        ),
        lambda answer: answer.get("vulns") or [],
    ),
}


def reachable():
    """The first service whose database knows Django 4.2's vulnerabilities, and why others failed."""
    failures = []
    for service, (request, vulnerabilities) in PROBES.items():
        try:
            # The URLs are the https constants above, never input.
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # nosec B310
                answer = json.load(response)
        except (OSError, ValueError) as exc:
            failures.append(f"{request.full_url}: {exc}")
            continue
        if vulnerabilities(answer):
            return service, failures
        failures.append(f"{request.full_url}: answered without Django 4.2's known vulnerabilities")
    return None, failures


def main():
    service, failures = reachable()
    if service is None:
        print("pip-audit: NOT CHECKED, no vulnerability database is reachable:")
        for failure in failures:
            print(f"  {failure}")
        print("pip-audit: the dependencies were not audited; run `make pip-audit` where pypi.org answers.")
        return 0
    pip_audit = Path(sys.executable).parent / "pip-audit"
    args = [str(pip_audit), "--strict", "--skip-editable", "--progress-spinner=off", "-s", service]
    print(f"pip-audit: vulnerability database {service} reachable; running {' '.join(args[1:])}", flush=True)
    return subprocess.run(args, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
