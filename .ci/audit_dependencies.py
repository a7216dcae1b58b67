"""pip-audit --strict over the virtualenv's installed distributions, when a vulnerability database answers.

Run with the virtualenv's Python (`make pip-audit`, .ci/run): `.venv/bin/python .ci/audit_dependencies.py`.

What is audited: every distribution installed in the virtualenv, at its installed version (`pip freeze`:
the pinned dependencies, their own dependencies and the dev tools), but not the project itself
(editable) nor pip and setuptools, the virtualenv's installers that `pip freeze` leaves out: the app
does not run them, and the pip that `python -m venv` bundles would fail every audit until the next
Python release. Keep them current with `pip install --upgrade pip` where that matters.

A vulnerability database counts as reachable only when it names the known vulnerabilities of a
release that has some (Django 4.2.0): a mirror that answers every package with an empty list, or not
at all, would otherwise pass every audit. PyPI's JSON API is tried first, then OSV. When neither
answers, this prints that the dependencies were NOT checked and exits 0, so CI without a network still
runs; when one does, any known vulnerability (or a dependency it cannot audit: --strict) fails.
"""

import json
import subprocess
import sys
import tempfile
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
    frozen = subprocess.run(
        [sys.executable, "-m", "pip", "freeze", "--exclude-editable", "--disable-pip-version-check"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    with tempfile.NamedTemporaryFile("w", suffix=".txt", prefix="installed-") as requirements:
        requirements.write(frozen)
        requirements.flush()
        # Exact versions of what is installed: no resolving (--no-deps), no pip run (--disable-pip).
        args = ["--strict", "--no-deps", "--disable-pip", "--progress-spinner=off", "-s", service]
        args += ["-r", requirements.name]
        print(
            f"pip-audit: vulnerability database {service} reachable; auditing {len(frozen.splitlines())} "
            "installed distributions",
            flush=True,
        )
        pip_audit = Path(sys.executable).parent / "pip-audit"
        return subprocess.run([str(pip_audit), *args], check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
