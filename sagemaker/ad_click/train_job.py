"""SageMaker script-mode training job of the click model (run as `python train.py --name value ...`).

Reads the channels from SM_CHANNEL_TRAIN and SM_CHANNEL_VALIDATION (each a folder with data.csv,
see features.py), writes the artefact to SM_MODEL_DIR (model.pt, manifest.json, metrics.json and
code/inference.py) and metrics.json to SM_OUTPUT_DATA_DIR, and prints each number of it as
`metric: name=value` for the training job's metric definitions:
  log_loss, auc, expected_calibration_error  the model on the validation channel
  baseline_log_loss                          predicting the training click rate for every row
  fit_seconds                                vocabulary, training and calibration
Early stopping and calibration use an inner share of the training channel (--inner-fraction), so
the validation channel only measures. Without a validation channel the metrics are those of the
inner share, and metrics.json says so (`evaluated_on`).
A file that breaks the channel contract fails the job with one line naming file, line and field
(exit 2); so does a bad hyperparameter.
"""
from __future__ import annotations

import json
import os
import time

import numpy as np
import torch

from common.cli import CliError, DataError, Parser, run as run_cli
from common.monitoring_baseline import write_baseline_sample
from common.progress import Progress, choose

from . import metrics as quality
from .features import CHANNEL_FILE, Rows, read_channel
from .model import CALIBRATIONS, MODEL_TYPES, OPTIMIZERS, ModelParams, fingerprint, fit, inner_split
from .monitoring_record import MONITORED_FIELDS

PROG = "ad-click:train"
# Job settings rather than hyperparameters: they stay out of metrics.json and the model version.
NOT_HYPERPARAMETERS = ("train", "validation", "model_dir", "output_data_dir", "checkpoint_dir")
METRIC_NAMES = ("log_loss", "auc", "expected_calibration_error", "baseline_log_loss", "fit_seconds")


def build_parser(prog: str | None = PROG) -> Parser:
    p = Parser(prog=prog, description=__doc__)
    d = ModelParams()
    hp = p.add_argument_group("hyperparameters (SageMaker passes them as --name value; dashes or underscores)")
    hp.add_argument("--model-type", "--model_type", choices=MODEL_TYPES, default=d.model_type,
                    help="fm: factorization machine; lr: logistic regression with hashed crosses")
    hp.add_argument("--factors", type=int, default=d.factors, help="factor dimensions of the fm")
    hp.add_argument("--crosses", default=None,
                    help="cross columns: 'none', 'all' or 'field*field,...' (default: the model type's, fm: none, "
                         "lr: all)")
    hp.add_argument("--min-count", "--min_count", type=int, default=d.min_count,
                    help="occurrences in training a value (or cross) needs for a row of its own")
    hp.add_argument("--epochs", type=int, default=d.epochs, help="most passes over the training rows")
    hp.add_argument("--batch-size", "--batch_size", type=int, default=d.batch_size, help="rows per step")
    hp.add_argument("--learning-rate", "--learning_rate", type=float, default=d.learning_rate, help="step size")
    hp.add_argument("--optimizer", choices=OPTIMIZERS, default=d.optimizer,
                    help="adagrad, or adam (SparseAdam on the rows a batch touches)")
    hp.add_argument("--l2-linear", "--l2_linear", type=float, default=d.l2_linear,
                    help="L2 weight on each linear weight, per training set (a Gaussian prior)")
    hp.add_argument("--l2-factors", "--l2_factors", type=float, default=d.l2_factors,
                    help="L2 weight on each factor vector, per training set")
    hp.add_argument("--init-sd", "--init_sd", type=float, default=d.init_sd, help="sd of the initial factors")
    hp.add_argument("--patience", type=int, default=d.patience,
                    help="epochs without a better inner validation log loss before stopping")
    hp.add_argument("--inner-fraction", "--inner_fraction", type=float, default=d.inner_fraction,
                    help="share of the training channel held out for early stopping and calibration")
    hp.add_argument("--calibration", choices=CALIBRATIONS, default=d.calibration,
                    help="fitted on the inner validation share")
    hp.add_argument("--seed", type=int, default=d.seed, help="seed of the split, the initialisation and the order")
    env = os.environ.get
    p.add_argument("--train", default=env("SM_CHANNEL_TRAIN", "/opt/ml/input/data/train"))
    p.add_argument("--validation", default=env("SM_CHANNEL_VALIDATION"))
    p.add_argument("--model-dir", "--model_dir", default=env("SM_MODEL_DIR", "/opt/ml/model"))
    p.add_argument("--output-data-dir", "--output_data_dir", default=env("SM_OUTPUT_DATA_DIR", "/opt/ml/output/data"))
    # The pipeline turns checkpoints off for every on-demand job with `--checkpoint-dir ''`
    # (lib/platform/constructs/ml/pipeline/train.ts); a click model trains in minutes and keeps none.
    p.add_argument("--checkpoint-dir", "--checkpoint_dir", default="", help="ignored: the click model keeps no checkpoints")
    return p


def params_from_args(args) -> ModelParams:
    return ModelParams(
        model_type=args.model_type, factors=args.factors, crosses=args.crosses or "", min_count=args.min_count,
        epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.learning_rate, optimizer=args.optimizer,
        l2_linear=args.l2_linear, l2_factors=args.l2_factors, init_sd=args.init_sd, patience=args.patience,
        inner_fraction=args.inner_fraction, calibration=args.calibration, seed=args.seed,
    )


def _write_json(path: str, obj) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(obj, handle, indent=2)


def _load(progress: Progress, label: str, directory: str) -> Rows:
    try:
        size = os.path.getsize(os.path.join(directory, CHANNEL_FILE))
    except OSError:
        size = None  # read_channel names the problem
    with progress.stage(label, total=size, unit="B") as stage:
        rows = read_channel(directory, on_bytes=stage.update)
        stage.summary = f"{len(rows):,} rows, click rate {rows.labels.mean():.4f}"
    return rows


def _both_classes(rows: Rows, what: str) -> None:
    clicks = int(rows.labels.sum())
    if clicks == 0 or clicks == len(rows):
        raise DataError(f"{rows.path}: every label of the {what} is {int(rows.labels[0])} ({len(rows):,} rows); "
                        "log loss and AUC need clicks and non-clicks")


def fit_stage(progress: Progress, rows: Rows, params: ModelParams, log=None):
    """One fit as a progress stage: a bar over the epochs, or one line when it ends."""
    with progress.stage(f"fit ({params.model_type})", total=params.epochs, unit="epoch", every=True) as bar:
        def on_epoch(done, record):
            bar.postfix(f"inner log loss {record['inner_log_loss']:.5f}")
            bar.moveto(done)

        # Per-epoch lines are the live progress of a job without a terminal (SageMaker's log stream).
        trained = fit(rows, params, on_epoch=on_epoch, log=log if progress.mode == "lines" else None)
        bar.summary = (f"best epoch {trained.best_epoch} of {len(trained.history)}, inner log loss "
                       f"{trained.manifest['training']['inner_log_loss']:.5f}, "
                       f"{sum(c['rows'] for c in trained.manifest['columns']):,} rows in "
                       f"{len(trained.manifest['columns'])} columns")
    return trained


def evaluate(trained, rows: Rows, base_rate: float) -> dict:
    probabilities = trained.predict(rows)
    report = quality.report(rows.labels, probabilities)
    report["baseline_log_loss"] = quality.log_loss(rows.labels, np.full(len(rows), base_rate))
    return report


def run(argv=None) -> dict:
    args = build_parser().parse_args(argv)
    params = params_from_args(args)
    problems = params.problems()
    if problems:
        raise CliError("; ".join(problems))
    torch.manual_seed(params.seed)
    progress = Progress("train", choose())
    train = _load(progress, "load train", args.train)
    _both_classes(train, "training channel")
    validation = _load(progress, "load validation", args.validation) if args.validation else None
    if validation is not None:
        _both_classes(validation, "validation channel")
    else:  # checked before the fit, which would otherwise run only to leave AUC undefined
        _both_classes(train.take(inner_split(len(train), params.inner_fraction, params.seed)[1]),
                      f"inner validation share (--inner-fraction {params.inner_fraction}; or give a validation channel)")
    progress.echo(f"train: {len(train):,} rows, click rate {train.labels.mean():.4f}; "
                  f"validation: {f'{len(validation):,} rows' if validation is not None else 'none (inner share reported)'}")

    began = time.perf_counter()
    try:
        trained = fit_stage(progress, train, params, log=progress.echo)
    except FloatingPointError as exc:  # diverged: the data was fine, the settings were not
        raise CliError(str(exc), code=1) from None
    fit_seconds = time.perf_counter() - began
    base_rate = trained.manifest["training"]["click_rate"]
    with progress.stage("evaluate") as stage:
        if validation is not None:
            measured, evaluated_on = validation, "validation channel"
        else:
            measured = train.take(inner_split(len(train), params.inner_fraction, params.seed)[1])
            evaluated_on = "inner validation share of the training channel (also used for early stopping)"
        report = evaluate(trained, measured, base_rate)
        stage.summary = (f"{len(measured):,} rows: log loss {report['log_loss']:.5f} (global rate "
                         f"{report['baseline_log_loss']:.5f}), AUC {report['auc']:.4f}, "
                         f"ECE {report['expected_calibration_error']:.4f}")

    hyperparameters = {k: v for k, v in vars(args).items() if k not in NOT_HYPERPARAMETERS}
    model_version = os.environ.get("TRAINING_JOB_NAME") or fingerprint(train, hyperparameters)
    result = {
        "model_version": model_version,
        "model_type": params.model_type,
        **{name: report[name] for name in METRIC_NAMES if name in report},
        "fit_seconds": round(fit_seconds, 3),
        "evaluated_on": evaluated_on,
        "evaluation_rows": len(measured),
        "evaluation_click_rate": float(measured.labels.mean()),
        "train_rows": len(train),
        "train_click_rate": float(train.labels.mean()),
        "best_epoch": trained.best_epoch,
        "epochs_run": len(trained.history),
        "calibration": trained.manifest["calibration"],
        "hyperparameters": hyperparameters,
    }
    with progress.stage("write") as stage:
        trained.save(args.model_dir, model_version, {"validation_metrics": {k: result[k] for k in METRIC_NAMES}})
        _write_json(os.path.join(args.output_data_dir, "metrics.json"), result)
        _write_json(os.path.join(args.model_dir, "metrics.json"), result)
        # The rows the endpoint's data-quality monitor compares its traffic with.
        write_baseline_sample(os.path.join(args.train, CHANNEL_FILE), MONITORED_FIELDS, args.output_data_dir)
        stage.summary = f"model {model_version} to {args.model_dir}"
    for name in METRIC_NAMES:
        progress.echo(f"metric: {name}={result[name]}")
    return result


def main(argv=None) -> int:
    run(argv)
    return 0


if __name__ == "__main__":
    raise SystemExit(run_cli(PROG, main))
