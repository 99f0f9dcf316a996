"""Outputs of the CLI and the API on one home, captured from a checkout, and compared between two.

Proves that a change of code changed no output: capture with the code before, capture with the
code after, on identical copies of the same home, then diff the two folders.

    # capture: every `revintel metrics|health|churn|clv|forecast|anomalies|info` command with
    # --format json, and every GET endpoint of the API, run by CHECKOUT's own environment
    uv run --group test python -m benchmarks compare_outputs capture --home H --out DIR
        [--checkout CHECKOUT]
        [--revintel "CMD"] [--groups metrics,health,churn,clv] [--no-writes] [--no-api]

    # diff: JSON-aware, volatile values normalised; prints every difference, exit 1 if any
    uv run --group test python -m benchmarks compare_outputs diff DIR_A DIR_B [--rtol 1e-12]

``capture`` copies ``H`` afresh (the home itself is never written) and runs each command as
``uv run --frozen --project CHECKOUT revintel …`` (or ``--revintel CMD``), so the same script
measures the code before and after. The commands are enumerated by Typer introspection of
CHECKOUT's own CLI. Commands that write state (:data:`WRITES`) run each on their own throwaway
copy of the home (``--no-writes`` skips them); read commands share one copy. Required arguments
are filled from the demo data (:data:`FILL`: the riskiest scored account, the registered model
versions); a command with an argument it cannot fill is recorded as skipped. The API is started
by ``revintel serve`` of CHECKOUT on a free loopback port on the read copy; its ``/openapi.json``
lists the GET endpoints; path parameters are filled from an enum (every value) or from
:data:`FILL`; query parameters keep their defaults.

Each output is saved under DIR as ``cli-<group>-<command>.json`` or ``get-<path>.json`` (other
bodies as ``.txt``/``.bin``), with ``<name>.stderr`` when the command wrote to stderr, and
``manifest.json`` (per output: the command or URL, exit code or HTTP status, content type; plus
the capture's start time). The copy's path is replaced by ``$HOME`` in what is saved.

``diff`` compares the manifests (same outputs, same exit codes and statuses) and each output:
JSON as data (every differing value printed with its path), text line by line. Normalised before
comparing: timestamps at or after the capture's start (written by the capture itself), values of
keys that measure time (``seconds``, ``*_seconds``, ``duration``, ``elapsed``, ``*_ms``) and
request ids, and ``file.py:123:`` locations in warnings. A zip body (a model download is a
``.skops`` zip written afresh per request) is compared member by member: contents in order, with
the member names (object ids of the writing process) and dates left out. ``--rtol`` compares
numbers within a relative tolerance (default 0: exactly) and prints the largest gap it allowed:
the health backtest's coefficients (a logistic fit on sums DuckDB adds up in thread order) vary in
their last digits between two runs of the same code, ~1e-14 relative.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import io
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
GROUPS = ("metrics", "health", "churn", "clv", "forecast", "anomalies", "info")
WRITES = frozenset(
    {
        "churn train",
        "churn score",
        "churn models promote",
        "churn models reject",
        "churn models rollback",
        "churn models export",
        "churn models import",
        "churn models retrain",
    }
)
"""Commands that change the home (or write a file): each runs on a throwaway copy."""
FILL: dict[str, str] = {
    "account_id": "{account}",
    "customer_id": "{account}",
    "version": "{version_a}",
    "a": "{version_a}",
    "b": "{version_b}",
    "survivors": "1000,860,750,660,590,530",
    "reason": "output comparison",
    "path": "{home}/exported-model.skops",
    "series": "mrr|revenue|paying_customers|new_mrr|churned_mrr",
}
"""Values for required arguments and path parameters, by parameter name; ``a|b``: the command
runs once per value (an enum in the OpenAPI schema takes precedence for the API)."""
COMMAND_TIMEOUT = 600.0
START_TIMEOUT = 180.0
VOLATILE_KEY = re.compile(
    r"^(seconds|duration|elapsed|took|request_id|.*_seconds|.*_ms|duration_.*|elapsed_.*)$", re.I
)
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?")
WARNING_AT = re.compile(r"\S+\.py:\d+: ")
OBJECT_ID = re.compile(rb'"__id__": (\d+)')

INTROSPECT = r"""
import json, sys, typer
from revintel.cli import app
root = typer.main.get_command(app)
ctx = type(root).context_class(root)
wanted = set(sys.argv[1].split(","))
out = []
def walk(cmd, path):
    if hasattr(cmd, "list_commands"):
        for name in cmd.list_commands(ctx):
            walk(cmd.get_command(ctx, name), path + [name])
        return
    params = [{"name": p.name, "opts": list(p.opts), "required": bool(p.required),
               "argument": "Argument" in type(p).__name__} for p in cmd.params]
    out.append({"path": path, "params": params})
for name in root.list_commands(ctx):
    if name in wanted:
        walk(root.get_command(ctx, name), [name])
print(json.dumps(out))
"""


# -- capture --------------------------------------------------------------------------------------
def _env(home: Path, scratch: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("REVINTEL_") and k not in ("VIRTUAL_ENV", "PYTHONPATH")
    }
    env["REVINTEL_HOME"] = str(home)
    env["REVINTEL_CONFIG"] = str(scratch / "no-revintel.toml")  # no user config file
    env["TZ"] = "UTC"
    return env


def _copy_home(home: Path, into: Path) -> Path:
    shutil.copytree(home, into, symlinks=True)
    return into


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.=-]+", "-", name).strip("-")


def _run(command: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(
            command, env=env, cwd=cwd, capture_output=True, timeout=COMMAND_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired as exc:
        return subprocess.CompletedProcess(command, -9, exc.stdout or b"", b"timed out")


def _scrub(data: bytes, places: dict[str, str]) -> bytes:
    for path, label in sorted(places.items(), key=lambda kv: -len(kv[0])):
        data = data.replace(path.encode(), label.encode())
    return data


def _fill(name: str, values: dict[str, str]) -> str | None:
    template = FILL.get(name)
    if template is None:
        return None
    try:
        return template.format(**values)
    except KeyError:
        return None


def _variants(spec: dict[str, Any]) -> list[dict[str, str]]:
    """One choice per run for the required parameters whose :data:`FILL` lists alternatives."""
    runs: list[dict[str, str]] = [{}]
    for p in spec["params"]:
        template = FILL.get(p["name"], "")
        if p["required"] and "|" in template:
            runs = [{**r, p["name"]: v} for r in runs for v in template.split("|")]
    return runs


def _build(
    spec: dict[str, Any], values: dict[str, str], chosen: dict[str, str]
) -> tuple[list[str] | None, str]:
    """The arguments of one command, or None and the reason it cannot run."""
    args: list[str] = []
    for p in spec["params"]:
        if "--format" in p["opts"]:
            args += ["--format", "json"]
        elif "--home" in p["opts"]:
            args += ["--home", values["home"]]
        elif p["required"]:
            value = chosen.get(p["name"]) or _fill(p["name"], values)
            if value is None:
                return None, f"cannot fill required {p['name']!r}"
            args += [value] if p["argument"] else [p["opts"][0], value]
    return args, ""


class Capture:
    def __init__(self, home: Path, out: Path, checkout: Path, revintel: list[str] | None) -> None:
        self.home, self.out, self.checkout = home, out, checkout.resolve()
        self.uv = ["uv", "run", "--frozen", "--project", str(self.checkout)]
        self.revintel = revintel or [*self.uv, "revintel"]
        self.scratch = Path(tempfile.mkdtemp(prefix="revintel-compare-"))
        self.started = datetime.now(UTC)
        self.manifest: dict[str, Any] = {
            "started_at": self.started.isoformat(),
            "checkout": str(self.checkout),
            "outputs": {},
        }

    def close(self) -> None:
        shutil.rmtree(self.scratch, ignore_errors=True)

    def save(self, name: str, body: bytes, stderr: bytes, entry: dict[str, Any]) -> None:
        places = {str(self.scratch): "$SCRATCH"}
        suffix = ".json"
        try:
            body = (json.dumps(json.loads(body), indent=2, sort_keys=False) + "\n").encode()
        except (ValueError, UnicodeDecodeError):
            suffix = ".txt" if _is_text(body) else ".bin"
        (self.out / f"{name}{suffix}").write_bytes(_scrub(body, places))
        if stderr.strip():
            (self.out / f"{name}.stderr").write_bytes(_scrub(stderr, places))
        self.manifest["outputs"][name] = {**entry, "file": f"{name}{suffix}"}
        state = entry.get("exit_code", entry.get("status"))
        print(f"  {name}: {state} ({len(body)} bytes)", flush=True)

    def commands(self, groups: list[str]) -> list[dict[str, Any]]:
        env = _env(self.home, self.scratch)
        found = _run([*self.uv, "python", "-c", INTROSPECT, ",".join(groups)], env, self.scratch)
        if found.returncode:
            raise SystemExit(f"introspection failed:\n{found.stderr.decode()}")
        return json.loads(found.stdout)

    def demo_values(self, home: Path) -> dict[str, str]:
        """The riskiest scored account and the registered model versions of the demo home."""
        env = _env(home, self.scratch)
        values = {"home": str(home)}
        got = _run([*self.revintel, "churn", "predictions", "-n", "1", "-f", "json"], env, home)
        with contextlib.suppress(ValueError, IndexError, KeyError):
            values["account"] = json.loads(got.stdout)[0]["account_id"]
        got = _run([*self.revintel, "churn", "models", "list", "-f", "json"], env, home)
        with contextlib.suppress(ValueError):
            versions = [m["version"] for m in json.loads(got.stdout)]
            values.update({f"version_{k}": v for k, v in zip("ab", versions, strict=False)})
        self.manifest["values"] = {k: v for k, v in values.items() if k != "home"}
        return values

    def cli(self, groups: list[str], writes: bool) -> None:
        reads = _copy_home(self.home, self.scratch / "home")
        values = self.demo_values(reads)
        for spec in self.commands(groups):
            for chosen in _variants(spec):
                self.one(spec, chosen, reads, values, writes)

    def one(
        self,
        spec: dict[str, Any],
        chosen: dict[str, str],
        reads: Path,
        values: dict[str, str],
        writes: bool,
    ) -> None:
        path = " ".join(spec["path"])
        name = "cli-" + _safe("-".join([*spec["path"], *chosen.values()]))
        home = reads
        if path in WRITES:
            if not writes:
                self.manifest["outputs"][name] = {"command": path, "skipped": "writes"}
                return
            home = _copy_home(self.home, self.scratch / f"home-{name}")
        args, why = _build(spec, {**values, "home": str(home)}, chosen)
        if args is None:
            self.manifest["outputs"][name] = {"command": path, "skipped": why}
            print(f"  {name}: skipped, {why}", flush=True)
            return
        done = _run([*self.revintel, *spec["path"], *args], _env(home, self.scratch), home)
        places = {str(home): "$HOME"}
        self.save(
            name,
            _scrub(done.stdout, places),
            _scrub(done.stderr, places),
            {
                "command": _scrub(shlex.join([*spec["path"], *args]).encode(), places).decode(),
                "exit_code": done.returncode,
            },
        )
        if home is not reads:
            shutil.rmtree(home, ignore_errors=True)

    def api(self) -> None:
        home = self.scratch / "home"
        if not home.exists():
            _copy_home(self.home, home)
        values = self.manifest.get("values") or self.demo_values(home)
        values = {**values, "home": str(home)}
        port = _free_port()
        log = (self.scratch / "serve.log").open("wb")
        server = subprocess.Popen(
            [*self.revintel, "serve", "--port", str(port), "--home", str(home)],
            env=_env(home, self.scratch),
            cwd=home,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_up(server, f"{url}/openapi.json", self.scratch / "serve.log")
            status, _type, body = _get(f"{url}/openapi.json")
            spec = json.loads(body)
            self.save("get-openapi", body, b"", {"url": "/openapi.json", "status": status})
            for route, ops in spec["paths"].items():
                if "get" not in ops:
                    continue
                for concrete in _expand(route, ops["get"].get("parameters", []), values):
                    if concrete.startswith("!"):
                        name = "get-" + _safe(route.replace("/", "-"))
                        self.manifest["outputs"][name] = {"url": route, "skipped": concrete[1:]}
                        continue
                    status, ctype, body = _get(url + concrete)
                    name = "get-" + _safe(concrete.replace("/", "-"))
                    self.save(
                        name,
                        _scrub(body, {str(home): "$HOME"}),
                        b"",
                        {"url": concrete, "status": status, "content_type": ctype},
                    )
        finally:
            _stop(server)
            log.close()

    def write_manifest(self) -> None:
        text = json.dumps(self.manifest, indent=2, sort_keys=True) + "\n"
        (self.out / "manifest.json").write_text(text)


def _is_text(body: bytes) -> bool:
    try:
        body.decode()
    except UnicodeDecodeError:
        return False
    return True


def _expand(route: str, params: list[dict[str, Any]], values: dict[str, str]) -> list[str]:
    """Concrete paths of ``route``: enum path parameters take every value, others :data:`FILL`;
    a path that cannot be filled comes back as ``"!reason"``."""
    paths = [route]
    for p in params:
        if p.get("in") != "path":
            continue
        enum = p.get("schema", {}).get("enum")
        if enum:
            choices = [str(v) for v in enum]
        else:
            value = _fill(p["name"], values)
            if value is None:
                return [f"!cannot fill path parameter {p['name']!r}"]
            choices = value.split("|")
        key = "{" + p["name"] + "}"
        paths = [
            path.replace(key, urllib.request.quote(c, safe="")) for path in paths for c in choices
        ]
    return paths


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=COMMAND_TIMEOUT) as response:
            return response.status, response.headers.get("content-type", ""), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("content-type", ""), exc.read()


def _wait_up(server: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"revintel serve exited:\n{log.read_text()}")
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(url, timeout=2) as response,
        ):
            if response.status == 200:
                return
        time.sleep(0.3)
    raise SystemExit(f"revintel serve did not start:\n{log.read_text()}")


def _stop(server: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
        server.wait()


def capture(args: argparse.Namespace) -> int:
    out: Path = args.out
    if out.exists() and any(out.iterdir()):
        raise SystemExit(f"{out} is not empty")
    out.mkdir(parents=True, exist_ok=True)
    revintel = shlex.split(args.revintel) if args.revintel else None
    run = Capture(args.home.resolve(), out, args.checkout, revintel)
    try:
        groups = [g for g in args.groups.split(",") if g]
        print(f"CLI ({', '.join(groups)}) from {run.checkout}", flush=True)
        run.cli(groups, writes=not args.no_writes)
        if not args.no_api:
            print("API", flush=True)
            run.api()
    finally:
        run.write_manifest()
        run.close()
    outputs = run.manifest["outputs"]
    skipped = sum("skipped" in e for e in outputs.values())
    print(f"{len(outputs) - skipped} outputs captured, {skipped} skipped, in {out}")
    return 0


# -- diff -----------------------------------------------------------------------------------------
def _normalise(value: Any, since: datetime, key: str = "") -> Any:
    if key and VOLATILE_KEY.match(key) and isinstance(value, int | float | str):
        return "<volatile>"
    if isinstance(value, dict):
        return {k: _normalise(v, since, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalise(v, since) for v in value]
    if isinstance(value, str):
        return _normalise_text(value, since)
    return value


def _normalise_text(text: str, since: datetime) -> str:
    def now_or_kept(match: re.Match[str]) -> str:
        try:
            stamp = datetime.fromisoformat(match.group(0).replace("Z", "+00:00"))
        except ValueError:
            return match.group(0)
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=UTC)
        return "<now>" if stamp >= since else match.group(0)

    return WARNING_AT.sub("<file>:<line>: ", TIMESTAMP.sub(now_or_kept, text))


class Numbers:
    """How numbers compare: within ``rtol`` relative (0: exactly); the largest gap allowed."""

    def __init__(self, rtol: float = 0.0) -> None:
        self.rtol = rtol
        self.largest = 0.0

    def same(self, a: Any, b: Any) -> bool:
        numbers = (int, float)
        if not (isinstance(a, numbers) and isinstance(b, numbers)) or isinstance(a, bool):
            return type(a) is type(b) and a == b
        if a == b:
            return True
        gap = abs(a - b) / max(abs(a), abs(b))
        if gap <= self.rtol:
            self.largest = max(self.largest, gap)
            return True
        return False


def _walk_diff(a: Any, b: Any, where: str, found: list[str], numbers: Numbers) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        for k in a.keys() - b.keys():
            found.append(f"{where}.{k}: only in A: {_short(a[k])}")
        for k in b.keys() - a.keys():
            found.append(f"{where}.{k}: only in B: {_short(b[k])}")
        for k in [k for k in a if k in b]:
            _walk_diff(a[k], b[k], f"{where}.{k}", found, numbers)
        if a.keys() == b.keys() and list(a) != list(b):
            found.append(f"{where}: key order {list(a)} != {list(b)}")
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            found.append(f"{where}: {len(a)} items != {len(b)} items")
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            _walk_diff(x, y, f"{where}[{i}]", found, numbers)
    elif not numbers.same(a, b):
        found.append(f"{where}: {_short(a)} != {_short(b)}")


def _zip_members(body: bytes) -> list[bytes] | None:
    """A zip's member contents in order, each member's name in the others replaced by its
    position and object ids (skops' ``"__id__": 1405…``) by their order of appearance; None when
    ``body`` is not a zip."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(body))
    except zipfile.BadZipFile:
        return None
    names = [info.filename for info in archive.infolist()]
    ids: dict[bytes, int] = {}

    def renumber(match: re.Match[bytes]) -> bytes:
        return b'"__id__": <%d>' % ids.setdefault(match.group(1), len(ids))

    members = []
    for info in archive.infolist():
        data = archive.read(info)
        for i, name in sorted(enumerate(names), key=lambda n: -len(n[1])):
            data = data.replace(name.encode(), f"<member {i}>".encode())
        members.append(OBJECT_ID.sub(renumber, data))
    return members


def _short(value: Any, width: int = 160) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= width else text[: width - 3] + "..."


def _text_diff(a: str, b: str, name: str) -> list[str]:
    lines = difflib.unified_diff(
        a.splitlines(), b.splitlines(), f"A/{name}", f"B/{name}", n=1, lineterm=""
    )
    return list(lines)


def diff_folders(a: Path, b: Path, numbers: Numbers | None = None) -> list[str]:
    ma = json.loads((a / "manifest.json").read_text())
    mb = json.loads((b / "manifest.json").read_text())
    since_a = datetime.fromisoformat(ma["started_at"]) - timedelta(seconds=5)
    since_b = datetime.fromisoformat(mb["started_at"]) - timedelta(seconds=5)
    numbers = numbers or Numbers()
    found: list[str] = []
    for key in ("values",):
        if ma.get(key) != mb.get(key):
            found.append(f"manifest {key}: {ma.get(key)} != {mb.get(key)}")
    oa, ob = ma["outputs"], mb["outputs"]
    for name in sorted(oa.keys() - ob.keys()):
        found.append(f"{name}: only in A ({oa[name].get('command') or oa[name].get('url')})")
    for name in sorted(ob.keys() - oa.keys()):
        found.append(f"{name}: only in B ({ob[name].get('command') or ob[name].get('url')})")
    for name in sorted(oa.keys() & ob.keys()):
        ea, eb = oa[name], ob[name]
        for field in ("command", "url", "exit_code", "status", "skipped", "content_type"):
            if ea.get(field) != eb.get(field):
                found.append(f"{name}: {field} {ea.get(field)!r} != {eb.get(field)!r}")
        if "file" not in ea or "file" not in eb:
            continue
        fa, fb = a / ea["file"], b / eb["file"]
        if ea["file"].endswith(".json") and eb["file"].endswith(".json"):
            ja = _normalise(json.loads(fa.read_text()), since_a)
            jb = _normalise(json.loads(fb.read_text()), since_b)
            mine: list[str] = []
            _walk_diff(ja, jb, "$", mine, numbers)
            found += [f"{name}: {line}" for line in mine]
        elif fa.read_bytes() != fb.read_bytes():
            if ea["file"].endswith(".bin") or eb["file"].endswith(".bin"):
                za, zb = _zip_members(fa.read_bytes()), _zip_members(fb.read_bytes())
                if za is None or za != zb:
                    found.append(f"{name}: binary bodies differ")
            else:
                ta = _normalise_text(fa.read_text(), since_a)
                tb = _normalise_text(fb.read_text(), since_b)
                found += [f"{name}: {line}" for line in _text_diff(ta, tb, ea["file"])]
        sa, sb = a / f"{name}.stderr", b / f"{name}.stderr"
        text_a = _normalise_text(sa.read_text(), since_a) if sa.exists() else ""
        text_b = _normalise_text(sb.read_text(), since_b) if sb.exists() else ""
        if text_a != text_b:
            found += [f"{name} (stderr): {line}" for line in _text_diff(text_a, text_b, name)]
    return found


def diff(args: argparse.Namespace) -> int:
    numbers = Numbers(args.rtol)
    found = diff_folders(args.a, args.b, numbers)
    for line in found:
        print(line)
    if numbers.largest:
        print(
            f"numbers equal within rtol {args.rtol:g}; largest relative gap {numbers.largest:.3g}"
        )
    count = len(json.loads((args.a / "manifest.json").read_text())["outputs"])
    print(
        f"{len(found)} difference(s) over {count} outputs"
        if found
        else f"no differences ({count} outputs)"
    )
    return 1 if found else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks compare_outputs",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="action", required=True)
    cap = sub.add_parser("capture", help="run every read command and GET endpoint; save outputs")
    cap.add_argument("--home", type=Path, required=True, help="the demo home (copied, not written)")
    cap.add_argument("--out", type=Path, required=True, help="an empty or new folder")
    cap.add_argument("--checkout", type=Path, default=ROOT, help="the code to run (default: this)")
    cap.add_argument("--revintel", help="command that runs revintel (default: uv run … revintel)")
    cap.add_argument("--groups", default=",".join(GROUPS), help="top-level commands to run")
    cap.add_argument("--no-writes", action="store_true", help="skip commands that write state")
    cap.add_argument("--no-api", action="store_true", help="skip the API")
    dif = sub.add_parser("diff", help="compare two capture folders")
    dif.add_argument("a", type=Path)
    dif.add_argument("b", type=Path)
    dif.add_argument("--rtol", type=float, default=0.0, help="relative tolerance for numbers")
    args = parser.parse_args(argv)
    return capture(args) if args.action == "capture" else diff(args)


if __name__ == "__main__":
    sys.exit(main())
