"""The JSON of every ``revintel churn`` command and churn/models GET endpoint on one home.

Run it on the same home with two versions of the code and compare the files: a refactor must
leave them equal (``recommended_action``, added to the predictions, is left out so a home can be
compared with code from before it). ``--prepare`` first fills an empty home with a generated
company, the 1- and 3-month models and a scoring run.

    uv run --group test python -m benchmarks churn_outputs HOME OUT.json [--prepare]
    PYTHONPATH=/path/to/old/src uv run --group test python -m benchmarks churn_outputs HOME OLD.json
    python -c "import json,sys; a,b=(json.load(open(f)) for f in sys.argv[1:]); \\
        print([k for k in a if a[k] != b.get(k)])" OLD.json OUT.json
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

API = "/api/v1"


def prepare(home: Path) -> None:
    from revintel.app.context import AppContext
    from revintel.app.ingest import load_paths
    from revintel.churn import service as churn
    from revintel.core.config import Settings
    from revintel.data.generator import generate_company, write_company

    write_company(generate_company(customers=1500, months=30, seed=7), home / "demo", "parquet")
    ctx = AppContext(Settings(home=home, warehouse_url=None, database_url=None))
    try:
        load_paths(ctx, [home / "demo"], source="demo")
        ctx.refresh()
        for horizon in (1, 3):
            churn.train_warehouse_model(ctx, horizon)
        try:
            from revintel.app.churn import score_warehouse
        except ImportError:  # code from before revintel.app.churn
            score_warehouse = churn.score_warehouse
        score_warehouse(ctx)
    finally:
        ctx.close()


def outputs(home: Path) -> dict[str, Any]:
    from fastapi.testclient import TestClient
    from typer.testing import CliRunner

    from revintel.api.app import create_app
    from revintel.app.context import AppContext
    from revintel.cli import app
    from revintel.core.config import Settings

    os.environ["REVINTEL_CONFIG"] = str(home / "no-such-revintel.toml")
    runner = CliRunner()

    def cli(*args: str) -> Any:
        result = runner.invoke(app, [*args, "--home", str(home), "--format", "json"])
        return json.loads(result.stdout) if result.exit_code == 0 else f"exit {result.exit_code}"

    def without_action(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{k: v for k, v in r.items() if k != "recommended_action"} for r in rows]

    out: dict[str, Any] = {}
    predictions = cli("churn", "predictions")
    account = next(r["account_id"] for r in predictions if r["top_risk_factor"] is not None)
    out["churn predictions"] = without_action(predictions)
    models = [r["version"] for r in cli("churn", "models", "list")]
    for args in (
        ("churn", "segments"),
        ("churn", "explain", account),
        ("churn", "explain", account, "--set", "late_payments_3m=0"),
        ("churn", "evaluate"),
        ("churn", "threshold"),
        ("churn", "models", "list"),
        ("churn", "models", "drift"),
        ("churn", "models", "show", models[0]),
        ("churn", "models", "compare", models[-1], models[0]),
    ):
        out[" ".join(args)] = cli(*args)
    ctx = AppContext(Settings(home=home, warehouse_url=None, database_url=None))
    with TestClient(create_app(ctx), base_url="http://localhost") as client:
        page = client.get(f"{API}/churn/predictions", params={"limit": 1000}).json()
        out["GET /churn/predictions"] = {**page, "items": without_action(page["items"])}
        for path in (
            "/churn/overview",
            "/churn/segments",
            f"/churn/customers/{account}",
            f"/churn/customers/{account}/similar",
            "/churn/threshold",
            "/models",
            f"/models/{models[0]}",
            f"/models/{models[0]}/drift",
            f"/models/{models[-1]}/compare/{models[0]}",
        ):
            response = client.get(API + path)
            out[f"GET {path}"] = [response.status_code, response.json()]
        body = {"account_id": account, "changes": {"late_payments_3m": 0}}
        response = client.post(f"{API}/churn/what-if", json=body)
        out["POST /churn/what-if"] = [response.status_code, response.json()]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("home", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--prepare", action="store_true", help="Fill an empty home first.")
    args = parser.parse_args()
    if args.prepare:
        prepare(args.home)
    args.out.write_text(json.dumps(outputs(args.home), indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
