"""Independent SBOM validators for the integration tests: CycloneDX's own (cyclonedx-python-lib, JSON strict
schema of the document's specVersion) and the SPDX tools (spdx-tools: parse, then validate the full document).

Usage: sbom_validate.py cyclonedx|spdx FILE. Prints one JSON document on the last line: {"errors": [...]}.
"""

import json
import sys


def validate_cyclonedx(path):
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    with open(path, encoding="utf-8") as f:
        text = f.read()
    version = SchemaVersion.from_version(json.loads(text)["specVersion"])
    result = JsonStrictValidator(version).validate_str(text, all_errors=True)
    if result is None:
        return []
    errors = [result] if not hasattr(result, "__iter__") else list(result)
    return [str(getattr(e, "data", e)).splitlines()[0][:500] for e in errors]


def validate_spdx(path):
    from spdx_tools.spdx.parser.parse_anything import parse_file
    from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

    document = parse_file(path)
    return [m.validation_message for m in validate_full_spdx_document(document)]


def main():
    kind, path = sys.argv[1], sys.argv[2]
    try:
        errors = validate_cyclonedx(path) if kind == "cyclonedx" else validate_spdx(path)
    except Exception as error:  # a document the parser cannot read is a validation error too
        errors = [f"{type(error).__name__}: {error}"]
    print(json.dumps({"errors": errors}))


if __name__ == "__main__":
    main()
