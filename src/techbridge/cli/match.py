"""Commands of the matching engine: batch matching into the store, one demand, retrieval evaluation."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from . import app
from .records import console, database_url, progress_bar

match_app = typer.Typer(help="撮合匹配: 为需求匹配成果、专家、仪器、中试平台, 并保存结果.")
app.add_typer(match_app, name="match")
eval_app = typer.Typer(help="评测: 在 BEIR 格式的数据集上衡量匹配质量.", no_args_is_help=True)
app.add_typer(eval_app, name="eval")

TopK = Annotated[int, typer.Option("--top-k", min=1, help="Results kept per source and target kind")]
Weights = Annotated[
    str | None, typer.Option("--weights", help="Signal weights as JSON, e.g. '{\"dense\": 1.5}'")
]
Params = Annotated[
    list[str] | None,
    typer.Option("--set", help="Matcher parameter NAME=VALUE, e.g. --set dense_floor=0.6 (repeatable)"),
]
EncoderName = Annotated[
    str | None, typer.Option("--encoder", help="auto, none, m3e-small or a model directory")
]


@match_app.callback(invoke_without_command=True)
def match_all(
    ctx: typer.Context,
    all_: Annotated[
        bool, typer.Option("--all", help="Match every open demand, achievement and expert")
    ] = False,
    full: Annotated[bool, typer.Option("--full", help="Re-rank every source, not only what changed")] = False,
    top_k: TopK = 20,
    ray: Annotated[
        str | None,
        typer.Option(
            "--ray",
            metavar="auto|ADDRESS",
            help="Rank on shards of the index on a Ray cluster: auto starts a local one, an address "
            "(host:6379 or ray://host:10001) joins a running one (docs/scale-out.md)",
        ),
    ] = None,
    shards: Annotated[
        int, typer.Option("--shards", min=1, help="Shards of the index on the Ray cluster (with --ray)")
    ] = 2,
) -> None:
    """Batch matching: bring the index up to date, re-rank what changed, store top results with reasons."""
    if ctx.invoked_subcommand is not None:
        return
    if not all_:
        console.print(ctx.get_help())
        raise typer.Exit(0)
    from ..config import get_settings
    from ..match.distributed import Cluster
    from ..services.matching import run_batch
    from ..store.db import init_db

    cluster = None
    if ray is not None:
        if importlib.util.find_spec("ray") is None:
            raise typer.BadParameter("未安装 Ray: pip install 'techbridge[cluster]'", param_hint="--ray")
        cluster = Cluster(address=ray, shards=shards)
    url = database_url()
    init_db(url)
    with progress_bar("撮合匹配") as progress:
        report = run_batch(
            url, settings=get_settings(), top_k=top_k, full=full, progress=progress, cluster=cluster
        )
    console.print(
        f"索引更新 {report.indexed} 条, 移除 {report.removed} 条; 匹配 {report.sources} 个来源, "
        f"保存 {report.stored} 条结果, 用时 {report.seconds:.1f} 秒"
    )


@match_app.command("demand")
def match_one_demand(
    demand_id: Annotated[int, typer.Argument(help="Demand id in the database")],
    zone: Annotated[
        str | None, typer.Option(help="Act for this zone (default: platform administrator)")
    ] = None,
    top_k: TopK = 5,
) -> None:
    """Match one demand against achievements, experts, instruments and pilot platforms, with reasons."""
    from ..config import get_settings
    from ..domain.access import Scope
    from ..services.matching import match_demand, titles
    from ..store.db import init_db

    url = database_url()
    init_db(url)
    results = match_demand(url, demand_id, top_k=top_k, scope=Scope(zone_code=zone), settings=get_settings())
    names = titles(url, [m for matches in results.values() for m in matches])
    for kind, matches in results.items():
        table = Table("#", "名称", "得分", "园区", "理由", title=f"匹配的{kind.value}")
        for rank, m in enumerate(matches, start=1):
            reasons = "\n".join(r.text for r in m.reasons)
            table.add_row(str(rank), names[f"{m.kind}/{m.id}"], f"{m.score:.3f}", m.zone_code, reasons)
        console.print(table)


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
    weights: Weights = None,
    params: Params = None,
    encoder: EncoderName = None,
) -> None:
    """Index the corpus with the production matcher, rank each query, print nDCG@10/Recall@100/MRR@10/QPS.

    Weights, parameters and encoder start from the settings (TECHBRIDGE_MATCH_WEIGHTS, …) as the service
    does; the options override them, so a method can be tuned from the command line.
    """
    from ..match.evaluation import run_retrieval, write_run

    config, model = _matcher(weights, params, encoder)
    report = run_retrieval(folder, top_k=top_k, config=config, encoder=model)
    if run_out is not None:
        write_run(report.run, path=run_out)
    typer.echo(json.dumps({name: round(value, 4) for name, value in report.metrics.items()}))


@eval_app.command("calibrate")
def eval_calibrate(
    folder: Annotated[
        Path,
        typer.Argument(
            exists=True, file_okay=False, help="BEIR folder with graded qrels (demand-knownitem-dev)"
        ),
    ],
    top_k: Annotated[int, typer.Option("--top-k", min=1, help="Results read per query")] = 20,
    weights: Weights = None,
    params: Params = None,
    encoder: EncoderName = None,
) -> None:
    """Fit 匹配度: the logistic that turns the fused score into P(a reader judges it relevant).

    Each query's top results are read as written and as its first sentence alone, each with and without
    its relevant records in the catalogue. Prints JSON: the ``calibration_dense`` or
    ``calibration_lexical`` parameter (a0, a1, b0, b1, as the encoder is on or off),
    ``calibration_span`` and ``calibration_top``, the log-loss, and per form of the query and band of P
    the results and the share judged relevant.
    """
    from ..match.engine import MatchEngine
    from ..match.evaluation import calibration_pairs, corpus_doc, fit_calibration, read_beir

    config, model = _matcher(weights, params, encoder)
    data = read_beir(folder)
    engine = MatchEngine.build((corpus_doc(row) for row in data.corpus), config=config, encoder=model)
    fit = fit_calibration(calibration_pairs(data, engine, top_k=top_k))
    if not fit.increasing:
        typer.echo("警告: 拟合结果在部分需求长度上随融合分数下降, 不宜采用 (评测数据太少?)", err=True)
    bands = {
        form: [
            {
                "p": f"[{low:.1f}, {high:.1f})",
                "results": n,
                "judged_relevant": None if math.isnan(share) else round(share, 3),
            }
            for low, high, n, share in bins
        ]
        for form, bins in fit.bins.items()
    }
    name = "calibration_dense" if model is not None else "calibration_lexical"
    # A pair (with the encoder, without), as TECHBRIDGE_MATCH_PARAMS takes it: this fit fills its side.
    top = list(config.calibration_top)
    top[0 if model is not None else 1] = round(fit.top, 3)
    typer.echo(
        json.dumps(
            {
                name: [round(value, 3) for value in fit.params],
                "calibration_span": list(fit.span),
                "calibration_top": top,
                "pairs": fit.pairs,
                "log_loss": round(fit.log_loss, 4),
                "bands": bands,
            },
            ensure_ascii=False,
        )
    )


def _matcher(weights: str | None, params: list[str] | None, encoder: str | None):
    """The service's configuration and encoder (from the settings), with the command line's overrides."""
    from ..config import get_settings
    from ..services.matching import engine_config, engine_encoder

    settings = get_settings()
    try:
        overrides = json.loads(weights) if weights else {}
        pairs = dict(p.split("=", 1) for p in params or [])
        config = engine_config(settings).replace(
            weights=overrides, **{k: json.loads(v) if v[:1] in "[{" else v for k, v in pairs.items()}
        )
    except (ValueError, TypeError) as exc:
        raise typer.BadParameter(str(exc)) from exc
    model = engine_encoder(settings if encoder is None else settings.model_copy(update={"encoder": encoder}))
    return config, model
