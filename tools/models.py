"""`python -m tools.models [--json]`: list every model with its parameter count."""

from __future__ import annotations

import argparse
import json

from pipeline.models.registry import describe_models


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true", help="print a JSON list")
    records = describe_models()
    if parser.parse_args().json:
        print(json.dumps(records, indent=2))
        return
    for r in records:
        print(
            f"{r['name']:<12} input {tuple(r['input_shape'])!s:<14} "  # type: ignore[arg-type]
            f"outputs {r['n_outputs']:<4} params {r['n_params']:>12,}"
        )


if __name__ == "__main__":
    main()
