"""`python -m tools.methods`: list the methods that run.methods can name, with the offline phase each needs."""

from __future__ import annotations

import argparse

from pipeline.methods import describe


def main() -> None:
    argparse.ArgumentParser(
        prog="python -m tools.methods",
        description="List the methods that run.methods can name, with the offline phase (run.inits) each needs.",
    ).parse_args()
    print(describe())


if __name__ == "__main__":
    main()
