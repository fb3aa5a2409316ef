"""Print the authorization matrix as a Markdown table, or write it into README.md (--write)."""

from __future__ import annotations

import sys
from pathlib import Path

from tests.api.authz_matrix import render_table

START = "<!-- authz-matrix:start -->"
END = "<!-- authz-matrix:end -->"


def main(argv: list[str]) -> int:
    table = render_table()
    if argv != ["--write"]:
        sys.stdout.write(table)
        return 0
    readme = Path(__file__).resolve().parent.parent / "README.md"
    text = readme.read_text()
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    if not rest or END not in rest:
        print(f"README.md has no {START} … {END} markers", file=sys.stderr)
        return 1
    readme.write_text(f"{head}{START}\n{table}{END}{tail}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
