#!/usr/bin/env python3
"""Validate OSCAL JSON documents against the official OSCAL models.

    python3 scripts/validate-oscal.py FILE.json [FILE.json ...]

Each file must hold one OSCAL document (its single top-level key names the
model: assessment-results, catalog, profile, ...). The document is checked
with compliance-trestle's pydantic models, which are generated from NIST's
OSCAL schemas (required fields, types, enumerations, patterns, no unknown
fields); on top of that every uuid anywhere in the document must be an
RFC 4122 version 4 or 5 uuid, as OSCAL's uuid pattern requires.

Exit status: 0 when every file is valid, 1 when any is not (the reasons are
printed), 2 when the validator cannot run (no files given, trestle missing).

Needs: pip install compliance-trestle
"""

import importlib
import json
import re
import sys

# Top-level key -> (trestle module, class).
MODELS = {
    "assessment-results": ("trestle.oscal.assessment_results", "AssessmentResults"),
    "assessment-plan": ("trestle.oscal.assessment_plan", "AssessmentPlan"),
    "catalog": ("trestle.oscal.catalog", "Catalog"),
    "profile": ("trestle.oscal.profile", "Profile"),
    "component-definition": ("trestle.oscal.component", "ComponentDefinition"),
    "system-security-plan": ("trestle.oscal.ssp", "SystemSecurityPlan"),
    "plan-of-action-and-milestones": ("trestle.oscal.poam", "PlanOfActionAndMilestones"),
}

# OSCAL's uuid datatype: RFC 4122, version 4 (random) or 5 (name-based).
UUID_RE = re.compile(
    r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[45][0-9A-Fa-f]{3}-[89ABab][0-9A-Fa-f]{3}-[0-9A-Fa-f]{12}$"
)


def bad_uuids(node, path="$"):
    """Yield (json path, value) for every uuid-valued field that is not one."""
    if isinstance(node, dict):
        for key, value in node.items():
            child = f"{path}.{key}"
            if key == "uuid" or key.endswith("-uuid"):
                if not isinstance(value, str) or not UUID_RE.match(value):
                    yield child, value
            elif key.endswith("-uuids") and isinstance(value, list):
                for i, item in enumerate(value):
                    if not isinstance(item, str) or not UUID_RE.match(item):
                        yield f"{child}[{i}]", item
            yield from bad_uuids(value, child)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from bad_uuids(item, f"{path}[{i}]")


def validate(path):
    """Return a list of problems with one file (empty when valid)."""
    try:
        with open(path, encoding="utf-8") as handle:
            document = json.load(handle)
    except (OSError, UnicodeDecodeError) as err:
        return [f"cannot read: {err}"]
    except json.JSONDecodeError as err:
        return [f"not JSON: {err}"]
    if not isinstance(document, dict) or len(document) != 1:
        return ["an OSCAL document is a JSON object with exactly one top-level key"]
    (root, body), = document.items()
    if root not in MODELS:
        return [f"unknown OSCAL model '{root}' (expected one of: {', '.join(sorted(MODELS))})"]
    module_name, class_name = MODELS[root]
    model = getattr(importlib.import_module(module_name), class_name)

    from pydantic import ValidationError

    problems = []
    try:
        model.model_validate(body)
    except ValidationError as err:
        for e in err.errors():
            where = ".".join(str(p) for p in e.get("loc", ()))
            problems.append(f"{root}.{where}: {e.get('msg')}")
    for where, value in bad_uuids(document):
        problems.append(f"{where}: {value!r} is not an RFC 4122 v4/v5 uuid")
    return problems


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    try:
        importlib.import_module("trestle.oscal.common")
    except ImportError as err:
        print(f"validate-oscal: compliance-trestle is not installed ({err}); "
              "run: pip install compliance-trestle", file=sys.stderr)
        return 2
    failed = 0
    for path in argv[1:]:
        problems = validate(path)
        if problems:
            failed += 1
            print(f"INVALID {path}", file=sys.stderr)
            for problem in problems[:50]:
                print(f"  {problem}", file=sys.stderr)
            if len(problems) > 50:
                print(f"  ... and {len(problems) - 50} more", file=sys.stderr)
        else:
            print(f"valid   {path}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
