"""Run mutmut over the pure rules and judge the result (scripts/mutate says how to call it).

The score is the share of mutants the unit tests detect (killed, or stopped by the time limit, which
is how an endless loop shows), counted over every mutant but the equivalent ones listed in
scripts/mutate_equivalents.txt. A mutant with no test at all, a suspicious one and a survivor all
count against it.

Each equivalent entry quotes the mutated code, and the verdict checks the quote against the mutant's
diff: mutmut numbers a function's mutants in order, so an edit to a rule renumbers them, and a stale
entry would otherwise excuse some other, real survivor. An entry that no longer matches a survivor
fails the run until the list is brought up to date.
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EQUIVALENTS_PATH = ROOT / "scripts" / "mutate_equivalents.txt"
RUN_LOG_PATH = ROOT / "mutants" / "mutate-run.log"
MINIMUM_SCORE_PERCENT = 95.0

# mutmut's exit codes of a mutant's test run (mutmut.stats.status_by_exit_code), by verdict here.
DETECTED_EXIT_CODES = {1, 3, 36, 24, -24, 152, 255}  # tests failed, pytest error, timeouts (SIGXCPU)
SURVIVED_EXIT_CODE = 0
NO_TESTS_EXIT_CODES = {5, 33}
SKIPPED_EXIT_CODE = 34


@dataclass(frozen=True, slots=True)
class Equivalent:
    mutant_name: str
    quoted_code: str
    reason: str
    line_number: int


def _changed_lines(diff: str) -> tuple[list[str], list[str]]:
    """The removed and the added lines of a mutant's diff, whitespace collapsed."""
    removed = [
        " ".join(line[1:].split())
        for line in diff.splitlines()
        if line.startswith("-") and not line.startswith("---")
    ]
    added = [
        " ".join(line[1:].split())
        for line in diff.splitlines()
        if line.startswith("+") and not line.startswith("+++")
    ]
    return removed, added


def _is_assert_message(diff: str) -> bool:
    # `assert condition, "message"` with the condition untouched and only the message changed.
    removed, added = _changed_lines(diff)
    if len(removed) != 1 or len(added) != 1:
        return False
    try:
        before, after = (ast.parse(line).body[0] for line in (removed[0], added[0]))
    except (SyntaxError, IndexError):
        return False
    if not isinstance(before, ast.Assert) or not isinstance(after, ast.Assert):
        return False
    return ast.dump(before.test) == ast.dump(after.test) and ast.dump(before) != ast.dump(after)


def _is_zip_strict(diff: str) -> bool:
    # zip(..., strict=True) turned into strict=False, strict=None or no strict argument (the call may
    # span lines, so the changed lines are compared joined).
    removed, added = _changed_lines(diff)
    before, after = " ".join(removed), " ".join(added)
    # `zip(` may sit on an unchanged line above a long call's arguments; no other call in the rules
    # takes `strict=`.
    if "strict=True" not in before or "zip(" not in diff:
        return False

    def without_strict(text: str) -> str:
        return re.sub(r",?\s*strict=(True|False|None)", "", text).replace(" ", "").replace(",)", ")")

    return without_strict(before) == without_strict(after)


# Classes of mutants that cannot change behaviour, recognised from the diff; the equivalents file names
# the ones it uses (`class NAME | why`), so every excuse is written down where a reader looks for it.
CLASS_RULES: dict[str, Callable[[str], bool]] = {
    "assert-message": _is_assert_message,
    "zip-strict": _is_zip_strict,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", action="store_true", help="judge the last run (./mutants) again")
    arguments = parser.parse_args()
    os.chdir(ROOT)

    if not arguments.report:
        elapsed_s = run_mutmut()
        print(
            f"mutate: mutmut ran in {elapsed_s:.0f} s (one worker); its log is {RUN_LOG_PATH.relative_to(ROOT)}"
        )
    elif not (ROOT / "mutants").is_dir():
        print("mutate: no earlier run in ./mutants; run scripts/mutate first", file=sys.stderr)
        return 2
    return verdict()


def run_mutmut() -> float:
    # A fresh run every time: mutmut keeps verdicts between runs and would not retest a mutant whose
    # function is unchanged even when the tests changed.
    shutil.rmtree(ROOT / "mutants", ignore_errors=True)
    (ROOT / "mutants").mkdir()
    mutmut = Path(sys.executable).parent / "mutmut"
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    started_s = time.monotonic()
    # The progress spinner rewrites one line many times a second: it goes to the log, not the terminal.
    with RUN_LOG_PATH.open("w") as log:
        completed = subprocess.run(
            [str(mutmut), "run", "--max-children", "1"],
            cwd=ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            check=False,
        )
    elapsed_s = time.monotonic() - started_s
    if completed.returncode != 0:
        tail = RUN_LOG_PATH.read_text(errors="replace").replace("\r", "\n").splitlines()[-30:]
        print("\n".join(tail), file=sys.stderr)
        raise SystemExit(f"mutate: mutmut run failed with exit status {completed.returncode}")
    return elapsed_s


def verdict() -> int:
    # Imported here, after the chdir: mutmut reads its settings from ./pyproject.toml when imported.
    from mutmut.mutation.data import SourceFileMutationData
    from mutmut.mutation.diff_apply import get_diff_for_mutant
    from mutmut.utils.file_utils import walk_mutatable_files

    exit_code_by_mutant: dict[str, int | None] = {}
    path_by_mutant: dict[str, Path] = {}
    for path in walk_mutatable_files():
        data = SourceFileMutationData(path=path)
        data.load()
        for mutant_name, exit_code in data.exit_code_by_key.items():
            exit_code_by_mutant[mutant_name] = exit_code
            path_by_mutant[mutant_name] = path
    if not exit_code_by_mutant:
        print("mutate: the run produced no mutants", file=sys.stderr)
        return 2
    not_run = [name for name, exit_code in exit_code_by_mutant.items() if exit_code is None]
    if not_run:
        print(f"mutate: {len(not_run)} mutants were never run (an interrupted run?)", file=sys.stderr)
        return 2

    def diff_of(mutant_name: str) -> str:
        return get_diff_for_mutant(mutant_name, path=path_by_mutant[mutant_name])

    classes, equivalents = read_equivalents()
    stale: list[str] = []
    excused: set[str] = set()
    excused_by_class: dict[str, int] = dict.fromkeys(classes, 0)
    for mutant_name, exit_code in exit_code_by_mutant.items():
        if exit_code != SURVIVED_EXIT_CODE:
            continue
        diff = diff_of(mutant_name)
        for class_name in classes:
            if CLASS_RULES[class_name](diff):
                excused.add(mutant_name)
                excused_by_class[class_name] += 1
                break
    for equivalent in equivalents:
        exit_code = exit_code_by_mutant.get(equivalent.mutant_name, "missing")
        if exit_code != SURVIVED_EXIT_CODE:
            stale.append(
                f"line {equivalent.line_number}: {equivalent.mutant_name} is {exit_code_name(exit_code)}"
            )
            continue
        if equivalent.mutant_name in excused:
            stale.append(f"line {equivalent.line_number}: {equivalent.mutant_name} is in a class already")
            continue
        _, added_lines = _changed_lines(diff_of(equivalent.mutant_name))
        if not any(" ".join(equivalent.quoted_code.split()) in line for line in added_lines):
            stale.append(
                f"line {equivalent.line_number}: {equivalent.mutant_name} no longer mutates to"
                f" {equivalent.quoted_code!r} (mutated lines: {added_lines})"
            )
            continue
        excused.add(equivalent.mutant_name)

    detected = [name for name, code in exit_code_by_mutant.items() if code in DETECTED_EXIT_CODES]
    skipped = [name for name, code in exit_code_by_mutant.items() if code == SKIPPED_EXIT_CODE]
    undetected = sorted(
        name
        for name, code in exit_code_by_mutant.items()
        if code not in DETECTED_EXIT_CODES and code != SKIPPED_EXIT_CODE and name not in excused
    )
    judged_count = len(exit_code_by_mutant) - len(skipped) - len(excused)
    score_percent = 100.0 * len(detected) / judged_count if judged_count else 100.0
    raw_percent = 100.0 * len(detected) / (len(exit_code_by_mutant) - len(skipped))

    for mutant_name in undetected:
        print(f"\n# {mutant_name}: {exit_code_name(exit_code_by_mutant[mutant_name])}")
        print(diff_of(mutant_name))
    print()
    print(
        f"mutate: {len(exit_code_by_mutant)} mutants of auction/rules, auction/disposal/rules,"
        " auction/operation/rules, transfer/rules"
    )
    print(
        f"mutate: {len(detected)} detected, {len(undetected)} not detected, {len(excused)} equivalent"
        f" (scripts/mutate_equivalents.txt), {len(skipped)} skipped"
    )
    print(f"mutate: score {score_percent:.1f} % without the equivalents ({raw_percent:.1f} % with them)")
    for class_name, count in excused_by_class.items():
        print(f"mutate: class {class_name}: {count} equivalent mutants")
    for line in stale:
        print(f"mutate: stale equivalent entry, {line}", file=sys.stderr)

    if stale:
        return 1
    if score_percent < MINIMUM_SCORE_PERCENT:
        print(f"mutate: the score is under {MINIMUM_SCORE_PERCENT:.0f} %", file=sys.stderr)
        return 1
    return 0


def exit_code_name(exit_code: int | str | None) -> str:
    if exit_code == SURVIVED_EXIT_CODE:
        return "survived"
    if exit_code in DETECTED_EXIT_CODES:
        return "killed"
    if exit_code in NO_TESTS_EXIT_CODES:
        return "covered by no test"
    if exit_code == SKIPPED_EXIT_CODE:
        return "skipped"
    if exit_code == "missing":
        return "not a mutant of this run"
    return f"suspicious (exit code {exit_code})"


def read_equivalents() -> tuple[dict[str, str], list[Equivalent]]:
    """The classes used (`class NAME | why`) and the single mutants (`name | mutated code | why`)."""
    classes: dict[str, str] = {}
    equivalents: list[Equivalent] = []
    for line_number, line in enumerate(EQUIVALENTS_PATH.read_text().splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line.startswith("class "):
            class_name, _, reason = line.removeprefix("class ").partition(" | ")
            if class_name.strip() not in CLASS_RULES or not reason.strip():
                raise SystemExit(
                    f"mutate: {EQUIVALENTS_PATH.name} line {line_number}: a class is one of"
                    f" {sorted(CLASS_RULES)} followed by ' | why'"
                )
            classes[class_name.strip()] = reason.strip()
            continue
        # The code may itself hold " | " (a set union), so the name and the reason are split off the ends.
        mutant_name, _, rest = line.partition(" | ")
        quoted_code, _, reason = rest.rpartition(" | ")
        fields = [mutant_name.strip(), quoted_code.strip(), reason.strip()]
        if not all(fields):
            raise SystemExit(
                f"mutate: {EQUIVALENTS_PATH.name} line {line_number}: need 'name | code | reason'"
            )
        equivalents.append(Equivalent(fields[0], fields[1], fields[2], line_number))
    names = [equivalent.mutant_name for equivalent in equivalents]
    if len(set(names)) != len(names):
        raise SystemExit(f"mutate: {EQUIVALENTS_PATH.name} names a mutant twice")
    return classes, equivalents


if __name__ == "__main__":
    sys.exit(main())
