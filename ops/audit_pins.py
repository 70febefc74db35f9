"""Check the pinned requirements against security/advisories.yml and pip-audit's findings.

Exit 1 when a pin is affected by an advisory without an acceptance reason, or when
pip-audit (JSON given with --pip-audit-json) reports a vulnerability that is not listed.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import yaml
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parent.parent


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def read_pins(path: Path) -> dict:
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            pins[normalise(name)] = version.strip()
    return pins


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requirements", default=str(ROOT / "requirements.txt"))
    parser.add_argument("--advisories", default=str(ROOT / "security" / "advisories.yml"))
    parser.add_argument("--pip-audit-json")
    args = parser.parse_args(argv)

    pins = read_pins(Path(args.requirements))
    advisories = yaml.safe_load(Path(args.advisories).read_text())["advisories"]
    failures = []
    listed_ids = set()
    for adv in advisories:
        listed_ids.add(adv["id"])
        version = pins.get(normalise(adv["package"]))
        if version is None or version not in SpecifierSet(adv["affected"]):
            continue
        reason = (adv.get("accepted") or "").strip()
        status = "accepted" if reason else "NOT ACCEPTED"
        print(f"{adv['id']}: {adv['package']}=={version} ({status}) {reason}")
        if not reason:
            failures.append(adv["id"])

    if args.pip_audit_json:
        report = json.loads(Path(args.pip_audit_json).read_text())
        audited = skipped = 0
        for dep in report.get("dependencies", []):
            if "skip_reason" in dep:
                skipped += 1
                continue
            audited += 1
            for vuln in dep.get("vulns", []):
                ids = {vuln["id"], *vuln.get("aliases", [])}
                if not ids & listed_ids:
                    print(f"UNLISTED: {dep['name']}=={dep['version']} {vuln['id']} fix: {vuln.get('fix_versions')}")
                    failures.append(vuln["id"])
        print(f"pip-audit: {audited} packages audited, {skipped} could not be looked up")
        if audited == 0:
            print("pip-audit could not reach a vulnerability database from here; only the curated list was checked.")

    if failures:
        print(f"audit failed: {', '.join(failures)}")
        return 1
    print(f"audit passed: {len(pins)} pins checked against {len(advisories)} listed advisories")
    return 0


if __name__ == "__main__":
    sys.exit(main())
