"""Commands of the matching engine: retrieval evaluation on BEIR folders."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from . import app

eval_app = typer.Typer(help="评测: 在 BEIR 格式的数据集上衡量匹配质量.", no_args_is_help=True)
app.add_typer(eval_app, name="eval")


@eval_app.command("retrieval")
def eval_retrieval(
    folder: Annotated[
        Path,
        typer.Argument(exists=True, file_okay=False, help="BEIR folder: corpus.jsonl, queries.jsonl, qrels/"),
    ],
    top_k: Annotated[int, typer.Option("--top-k", min=1, help="Results ranked per query")] = 100,
    run_out: Annotated[
        Path | None, typer.Option("--run-out", help="Write query-id, corpus-id, score lines")
    ] = None,
) -> None:
    """Index the corpus with the production matcher, rank each query, print nDCG@10/Recall@100/MRR@10/QPS."""
    from ..match.evaluation import run_retrieval, write_run

    report = run_retrieval(folder, top_k=top_k)
    if run_out is not None:
        write_run(report.run, path=run_out)
    typer.echo(json.dumps({name: round(value, 4) for name, value in report.metrics.items()}))
