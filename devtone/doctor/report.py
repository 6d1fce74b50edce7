"""The doctor's findings as the command line prints them, in English."""

from __future__ import annotations

import textwrap

from devtone.doctor.checks import FAIL, INFO, PASS, Finding

MARKS = {"pass": "PASS", "fail": "FAIL", "info": "INFO", "skipped": "SKIP"}


def as_text(url: str, findings: list[Finding]) -> str:
    """Each finding: its verdict and what was seen; for a failure or information, the fixes."""
    lines = [f"devtone doctor: {url}", ""]
    for finding in findings:
        shown = finding.render(lambda text: text, lambda number: f"{number:.1f}")
        lines.append(f"{MARKS[finding.status]}  {shown['title']}")
        lines.extend(_indented(shown["saw"], "      "))
        if finding.status in (FAIL, INFO):
            for fix in shown["fixes"]:
                lines.extend(_indented(f"Fix ({fix['label']}): {fix['text']}", "      "))
                if fix["config"]:
                    lines.extend("          " + row for row in fix["config"].splitlines())
        lines.append("")
    failed = sum(finding.status not in (PASS, INFO) for finding in findings)
    lines.append(f"{failed} check(s) did not pass." if failed else "Every check passed.")
    return "\n".join(lines)


def _indented(text: str, indent: str) -> list[str]:
    return textwrap.wrap(text, 92, initial_indent=indent, subsequent_indent=indent + "  ")
