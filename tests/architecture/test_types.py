"""The type checker's errors in ``src/revintel`` may only go away.

mypy (configured in ``pyproject.toml``, ``[tool.mypy]``) checks the package; its errors are
compared with ``tests/architecture/mypy-baseline.txt``, one line per kind of error with its count:
``<count>\\t<file>: <message>  [<code>]``, without line numbers, so moving code does not change
it. A new error, or one more of a known kind, fails the test; so does an error the baseline
lists that no longer occurs, so a fixed error leaves the baseline with its fix. After fixing
errors (or, when merging, to take in the branch's errors), write the baseline again with::

    uv run --group test python -m tests.architecture.test_types --update

mypy keeps its incremental cache in ``.mypy_cache/``: a run after a small change takes seconds.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BASELINE = ROOT / "tests" / "architecture" / "mypy-baseline.txt"
UPDATE = "uv run --group test python -m tests.architecture.test_types --update"
HEADER = (
    "# mypy errors in src/revintel that may only go away (tests/architecture/test_types.py).\n"
    f"# <count>\\t<file>: <message>  [<code>]. Write it again with: {UPDATE}\n"
)


def mypy_errors() -> Counter[str]:
    """mypy's errors on ``src/revintel``, each as ``file: message  [code]``, counted."""
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--output", "json", "src/revintel"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    errors: Counter[str] = Counter()
    for line in result.stdout.splitlines():
        if not line.startswith("{"):
            continue
        found = json.loads(line)
        if found["severity"] != "error":
            continue
        errors[normalised(found["file"], found["message"], found["code"])] += 1
    if result.returncode not in (0, 1) or (result.returncode == 1 and not errors):
        raise RuntimeError(f"mypy did not run (exit {result.returncode}):\n{result.stderr}")
    return errors


def normalised(file: str, message: str, code: str | None) -> str:
    """One error without its line number (nor the line numbers a message may quote)."""
    message = re.sub(r"\bline \d+", "line N", message.replace("\n", " "))
    return f"{Path(file).as_posix()}: {message}  [{code or 'misc'}]"


def read_baseline(path: Path = BASELINE) -> Counter[str]:
    counted: Counter[str] = Counter()
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            count, error = line.split("\t", 1)
            counted[error] += int(count)
    return counted


def write_baseline(errors: Counter[str], path: Path = BASELINE) -> None:
    lines = [f"{count}\t{error}" for error, count in sorted(errors.items())]
    path.write_text(HEADER + "".join(line + "\n" for line in lines))


def compare(found: Counter[str], baseline: Counter[str]) -> list[str]:
    """What is wrong with the errors found, given the baseline (nothing when they agree)."""
    problems: list[str] = []
    new = found - baseline
    if new:
        problems.append(
            f"{sum(new.values())} new mypy error(s) in src/revintel; fix them "
            "(`uv run --group test python -m mypy` shows their lines):\n"
            + "\n".join(f"  +{count} {error}" for error, count in sorted(new.items()))
        )
    fixed = baseline - found
    if fixed:
        problems.append(
            f"{sum(fixed.values())} error(s) of the baseline no longer occur: take them out of "
            f"{BASELINE.relative_to(ROOT)} with `{UPDATE}`:\n"
            + "\n".join(f"  -{count} {error}" for error, count in sorted(fixed.items()))
        )
    return problems


def test_type_errors_only_go_away() -> None:
    problems = compare(mypy_errors(), read_baseline())
    assert not problems, "\n\n".join(problems)


def test_comparison_names_new_and_fixed_errors() -> None:
    baseline = Counter(
        {"src/revintel/a.py: Bad  [arg-type]": 2, "src/revintel/b.py: Old  [misc]": 1}
    )
    assert compare(Counter(baseline), baseline) == []
    one_more = baseline + Counter({"src/revintel/a.py: Bad  [arg-type]": 1})
    assert "+1 src/revintel/a.py: Bad  [arg-type]" in compare(one_more, baseline)[0]
    fixed = compare(Counter({"src/revintel/a.py: Bad  [arg-type]": 2}), baseline)
    assert "-1 src/revintel/b.py: Old  [misc]" in fixed[0] and UPDATE in fixed[0]


def test_baseline_round_trips(tmp_path: Path) -> None:
    errors = Counter({normalised("src/revintel/a.py", 'Name "x" defined on line 12', None): 3})
    write_baseline(errors, tmp_path / "baseline.txt")
    assert read_baseline(tmp_path / "baseline.txt") == errors
    assert "line N" in next(iter(errors))


if __name__ == "__main__":
    if sys.argv[1:] != ["--update"]:
        sys.exit(f"usage: {UPDATE}")
    current = mypy_errors()
    write_baseline(current)
    print(f"{BASELINE.relative_to(ROOT)}: {sum(current.values())} errors of {len(current)} kinds")
