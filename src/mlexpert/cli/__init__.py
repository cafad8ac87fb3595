"""The ``mlexpert`` command line: registers one module per command."""

from __future__ import annotations

import typer

from . import audit as _audit
from . import explain as _explain
from . import export as _export
from . import feedback as _feedback
from . import fit as _fit
from . import monitor as _monitor
from . import predict as _predict
from . import registry as _registry
from . import report as _report
from . import retrain as _retrain
from . import serve as _serve

app = typer.Typer(
    name="mlexpert",
    help="An ML expert in a box: train, validate, ensemble and use tabular models.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("fit")(_fit.fit_command)
app.command("predict")(_predict.predict_command)
app.command("audit")(_audit.audit_command)
app.command("report")(_report.report_command)
app.command("explain")(_explain.explain_command)
app.command("serve")(_serve.serve_command)
app.command("export")(_export.export_command)
app.command("feedback")(_feedback.feedback_command)
app.command("monitor")(_monitor.monitor_command)
app.command("retrain")(_retrain.retrain_command)
app.add_typer(_registry.registry_app, name="registry")


def main() -> None:
    app()
