"""SageMaker script-mode training job (run as `python train.py --name value ...`).

Reads the channels from SM_CHANNEL_TRAIN / SM_CHANNEL_VALIDATION, writes the artefact to
SM_MODEL_DIR and metrics.json, recommendations.jsonl and popularity.json to SM_OUTPUT_DATA_DIR.
Without a validation channel a deterministic per-user holdout of train (the protocol rule with
--holdout-seed) is used for metrics and the threshold, then the model is refitted on all of train.
With --tune (the default) the hyperparameters of search_space.json are first searched on an inner
split of the data the measured fit uses (the holdout's train part, or train when a validation
channel is given), within --tune-budget-seconds (tuning.py); the winner is fitted, measured and
refitted as above, and metrics.json records the search under "tuning". --tune false keeps the given
hyperparameters.
Under torchrun (WORLD_SIZE > 1) every rank joins the solve and rank 0 writes the outputs.

Managed spot training: every ALS sweep is checkpointed to --checkpoint-dir (default
/opt/ml/checkpoints, CheckpointConfig.LocalPath's default), and a restarted job resumes after the
last checkpointed sweep with the same result; see recommender/checkpoint.py. The search is saved
there too (tuning.json, once it ends): a restarted job takes its winner instead of searching again,
since a binding time budget could end a second search elsewhere. A job reclaimed during the search
searches again from the start (at most one budget lost).

Warm starts: an optional `champion` channel (SM_CHANNEL_CHAMPION) holding the serving model's
artefact starts every fit from its factors with --warm-start-sweeps sweeps and the champion's
hyperparameters in place of tuning (with --tune false, the job's own); an unusable champion is
logged and the job trains cold. See
warm_start.py; metrics.json "warm_start" records what happened.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import sys
import time

import numpy as np
import torch

from . import inference
from .als import SOLVERS, ALSParams
from artist_recommender.checkpoint import DEFAULT_DIR as DEFAULT_CHECKPOINT_DIR, CheckpointDir
from common.cli import Parser
from .data import DataError, build_interactions, load_channel, read_interaction_rows
from common.distributed import current_context, init_from_env
from .evaluation import evaluate
from .feedback import held_out_clicks, learn_from_feedback, load_feedback, pairs_not_in
from .model import ModelParams, data_fingerprint, fit_model
from common.progress import Progress, choose
from .split import per_user_split
from . import tuning
from . import warm_start


def _bool(text: str) -> bool:
    value = str(text).strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true/false, got {text!r}")


def _at_least_one(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1, got {value}")
    return value


def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    p = Parser(prog=prog, description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    # Hyperparameters (SageMaker passes them as --name value; dashes or underscores both work).
    defaults = ModelParams()
    hp = p.add_argument_group("hyperparameters")
    hp.add_argument("--factors", type=int, default=defaults.als.factors, help="latent dimensions")
    hp.add_argument("--iterations", type=int, default=defaults.als.iterations, help="ALS sweeps")
    hp.add_argument("--reg", type=float, default=defaults.als.reg, help="L2 regularisation lambda")
    hp.add_argument("--reg-exponent", "--reg_exponent", type=float, default=defaults.als.reg_exponent,
                    help="lambda_r = reg * (n_r + w0 * n)^exponent; 0 = constant lambda")
    hp.add_argument("--unobserved-weight", "--unobserved_weight", type=float,
                    default=defaults.als.unobserved_weight, help="mean weight w0 of unobserved cells")
    hp.add_argument("--unobserved-exponent", "--unobserved_exponent", type=float,
                    default=defaults.als.unobserved_exponent,
                    help="unobserved weight of an artist ~ popularity^exponent (0 = uniform)")
    hp.add_argument("--solver", choices=SOLVERS, default=defaults.als.solver,
                    help="per-row solve of each ALS half-sweep: exact (Cholesky / Woodbury) or cg (a few "
                         "conjugate-gradient steps from the previous sweep's factors, much faster)")
    hp.add_argument("--cg-steps", "--cg_steps", type=_at_least_one, default=defaults.als.cg_steps,
                    help="conjugate-gradient steps per row and half-sweep of --solver cg")
    hp.add_argument("--alpha", type=float, default=defaults.alpha, help="confidence = 1 + alpha*log1p(plays)")
    hp.add_argument("--feature-confidence", "--feature_confidence", type=float,
                    default=defaults.feature_confidence, help="confidence of side-feature pseudo-columns")
    hp.add_argument("--norm-exponent", "--norm_exponent", type=float, default=defaults.norm_exponent,
                    help="artist vector = v/|v|^e before the cosine padding (0 = rank like dot product)")
    hp.add_argument("--neighbour-weight", "--neighbour_weight", type=float, default=defaults.neighbour_weight,
                    help="weight of the artist co-occurrence block in the cosine vectors (0 = latent only)")
    hp.add_argument("--click-weight", "--click_weight", type=float, default=defaults.click_weight,
                    help="interaction weight of a clicked served artist (feedback.csv)")
    hp.add_argument("--negative-confidence", "--negative_confidence", type=float,
                    default=defaults.negative_confidence,
                    help="confidence of a served, not clicked artist as a preference-0 cell")
    hp.add_argument("--weighting-l2", "--weighting_l2", type=float, default=defaults.weighting_l2,
                    help="L2 penalty of the logistic weighting of the score's parts")
    hp.add_argument("--segment-prior-strength", "--segment_prior_strength", type=float,
                    default=defaults.segment_prior_strength,
                    help="s of the segment prior's share s / (s + n) in a user's score (0 = off)")
    hp.add_argument("--seed", type=int, default=defaults.als.seed, help="factor initialisation seed")
    # "-k" too: sagemaker-training passes a one-letter hyperparameter as a short option (-k 50).
    hp.add_argument("-k", "--k", type=int, default=10, help="recommendations per user in recommendations.jsonl")
    hp.add_argument("--eval-k", "--eval_k", type=int, default=10, help="cutoff of validation metrics")
    hp.add_argument("--threshold-keep", "--threshold_keep", type=float, default=0.95,
                    help="threshold keeps this fraction of validation hits in the top-k")
    hp.add_argument("--holdout-seed", "--holdout_seed", type=int, default=43, help="seed of the holdout split")
    hp.add_argument("--refit-full", "--refit_full", type=_bool, default=True,
                    help="after holdout validation, refit on all of train")
    hp.add_argument("--skip-bad-rows", "--skip_bad_rows", type=_bool, default=False,
                    help="count and skip invalid rows instead of failing")
    hp.add_argument("--tf32", type=_bool, default=True, help="TF32 matmuls on CUDA (Gram products)")
    hp.add_argument("--tune", type=_bool, default=True,
                    help="search search_space.json on an inner split of the fit's data first (tuning.py)")
    hp.add_argument("--tune-budget-seconds", "--tune_budget_seconds", type=float, default=300.0,
                    help="time budget of the search; the fits after it are not counted")
    hp.add_argument("--tune-max-configs", "--tune_max_configs", type=int, default=27,
                    help="configurations the search may try (the defaults included) when the budget allows")
    hp.add_argument("--warm-start", "--warm_start", type=_bool, default=True,
                    help="start from the champion channel's factors when it holds a compatible model "
                         "(warm_start.py); the champion's hyperparameters are then reused and tuning skipped")
    hp.add_argument("--warm-start-sweeps", "--warm_start_sweeps", type=int, default=5,
                    help="ALS sweeps of a warm-started fit (a cold one runs --iterations)")
    hp.add_argument("--cold-every", "--cold_every", type=_at_least_one, default=7,
                    help="train cold (and tune again) when the champion is N-1 warm starts from its last cold "
                         "fit: warm starts chain, and the data drifts from what the last search saw (warm_start.py)")
    # SageMaker environment (overridable for local runs).
    env = os.environ.get
    p.add_argument("--train", default=env("SM_CHANNEL_TRAIN", "/opt/ml/input/data/train"))
    p.add_argument("--validation", default=env("SM_CHANNEL_VALIDATION"))
    # Optional: the champion's artefact (its model.tar.gz, or model.pt/ids.json/config.json) on
    # scheduled retrains; absent, the job trains cold.
    p.add_argument("--champion", default=env("SM_CHANNEL_CHAMPION"))
    p.add_argument("--model-dir", "--model_dir", default=env("SM_MODEL_DIR", "/opt/ml/model"))
    p.add_argument("--output-data-dir", "--output_data_dir", default=env("SM_OUTPUT_DATA_DIR", "/opt/ml/output/data"))
    p.add_argument("--num-gpus", "--num_gpus", type=int, default=int(env("SM_NUM_GPUS", "0") or 0))
    # SageMaker does not tell the container CheckpointConfig.LocalPath (no SM_* variable holds it),
    # so the documented default is assumed; SM_CHECKPOINT_DIR is this project's own override, set
    # by local_train the way it sets SM_MODEL_DIR. An empty value turns checkpoints off.
    # https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CheckpointConfig.html
    p.add_argument("--checkpoint-dir", "--checkpoint_dir", default=env("SM_CHECKPOINT_DIR", DEFAULT_CHECKPOINT_DIR),
                   help="folder SageMaker syncs with CheckpointConfig.S3Uri; '' = no checkpoints")
    return p


# Job settings rather than hyperparameters: they stay out of metrics.json and the model version.
NOT_HYPERPARAMETERS = ("train", "validation", "champion", "model_dir", "output_data_dir", "num_gpus",
                       "checkpoint_dir")
TUNING_SETTINGS = ("tune", "tune_budget_seconds", "tune_max_configs")


def params_from_args(args) -> ModelParams:
    als = ALSParams(
        factors=args.factors,
        reg=args.reg,
        reg_exponent=args.reg_exponent,
        unobserved_weight=args.unobserved_weight,
        unobserved_exponent=args.unobserved_exponent,
        iterations=args.iterations,
        seed=args.seed,
        solver=args.solver,
        cg_steps=args.cg_steps,
    )
    return ModelParams(als=als, alpha=args.alpha, feature_confidence=args.feature_confidence,
                       norm_exponent=args.norm_exponent, neighbour_weight=args.neighbour_weight,
                       click_weight=args.click_weight, negative_confidence=args.negative_confidence,
                       weighting_l2=args.weighting_l2, segment_prior_strength=args.segment_prior_strength)


def pick_device(num_gpus: int, local_rank: int) -> torch.device:
    if torch.cuda.is_available() and num_gpus != 0:
        torch.cuda.set_device(local_rank)
        return torch.device("cuda", local_rank)
    return torch.device("cpu")


def _write_json(path: str, obj) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(obj, handle, indent=2)


def write_batch_outputs(trained, model_version: str, threshold: float, k: int, out_dir: str) -> None:
    """recommendations.jsonl (top-k per known user, serving semantics) and popularity.json."""
    scorer = trained.scorer(model_version, threshold)
    users = torch.arange(trained.data.num_users)
    indices, scores = scorer.recommend_known(users, k, threshold)
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "recommendations.jsonl"), "w", encoding="utf-8") as handle:
        for user, idx, sc in zip(trained.data.user_ids, indices, scores):
            items = [{"artistId": trained.data.item_ids[i], "score": round(s, 6)} for i, s in zip(idx, sc)]
            handle.write(json.dumps({"user_id": user, "items": items, "model_version": model_version}) + "\n")
    popularity = trained.popularity()
    top = torch.argsort(popularity, descending=True, stable=True)[: inference.MAX_K].tolist()
    items = [{"artistId": trained.data.item_ids[i], "score": round(float(popularity[i]), 6)} for i in top]
    _write_json(os.path.join(out_dir, "popularity.json"), {"model_version": model_version, "items": items})


def add_feedback_metrics(metrics: dict, report: dict, validation: dict | None) -> None:
    """metrics["feedback"]: rows used, fitted weights, held-out click AUC / log loss (the validation
    channel's feedback when there is some, else the held-out share of train's requests), with the
    held-out numbers also top-level, where the job's metric definitions can read them."""
    metrics["feedback"] = {**report, "validation": validation}
    held_out = validation or report["weighting"].get("held_out_requests")
    metrics["feedback_rows"] = report["weighting"]["rows"]
    if held_out:
        metrics["feedback_click_auc"] = held_out["click_auc"]
        metrics["feedback_log_loss"] = held_out["log_loss"]


def run(argv=None) -> dict:
    args = build_parser().parse_args(argv)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = pick_device(args.num_gpus, local_rank)
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = args.tf32
    owns_group = not current_context().enabled and int(os.environ.get("WORLD_SIZE", "1")) > 1
    ctx = init_from_env(device.type) if owns_group else current_context()
    try:
        return _train(args, device, ctx)
    finally:
        if owns_group:
            torch.distributed.destroy_process_group()


def fit_stage(progress: Progress, label: str, data, params: ModelParams, device="cpu", ctx=None, log=None,
              checkpoints=None, stage: str = "fit", warm: "warm_start.WarmStart | None" = None):
    """One fit as a progress stage: a bar over the ALS sweeps, or one line when it ends.
    warm: the job's warm-start decision; when it is used, the fit starts from the champion's factors."""
    cells = len(data.weights)

    def on_sweep(done: int, seconds: float | None) -> None:
        if seconds:
            bar.postfix(f"{cells / seconds:,.0f} interactions/s")  # drawn with the count below
        bar.moveto(done)

    with progress.stage(label, total=params.als.iterations, unit="sweep", every=True) as bar:
        # The per-sweep log lines are the live progress of a job without a terminal (SageMaker's
        # log stream); with a bar, or under --quiet, they would only repeat it.
        initial = warm.initial_for(data) if warm is not None else None
        trained = fit_model(data, params, device, ctx, log=log if progress.mode == "lines" else None,
                            checkpoints=checkpoints, stage=stage, on_sweep=on_sweep, initial=initial)
        per_sweep = trained.seconds_per_iteration
        bar.summary = (f"{data.num_users:,} users x {data.num_items:,} artists, {cells:,} interactions, "
                       f"{cells * len(per_sweep) / max(sum(per_sweep), 1e-9):,.0f} interactions/s")
    return trained


def tune_stage(progress: Progress, data, params: ModelParams, args, device, ctx, log=None, checkpoints=None):
    """The hyperparameter search (tuning.py) on the fit's data, or the search a restarted job saved
    beside its checkpoints. Under torchrun rank 0 searches alone and the others take its winner:
    the time budget could cut the search at different points on different ranks."""
    key = tuning.search_key(data, params, args.tune_budget_seconds, args.seed, args.tune_max_configs)
    result = None
    if ctx.is_main:
        if checkpoints is not None:
            result = tuning.restore_search(checkpoints.directory, key, params, log)
        if result is None:
            result = tuning.tune(data, params, args.tune_budget_seconds, seed=args.seed, progress=progress,
                                 max_configs=args.tune_max_configs, device=device)
            if checkpoints is not None and checkpoints.writer:
                tuning.save_search(checkpoints.directory, key, result, log)
    if ctx.enabled:
        box = [result]
        torch.distributed.broadcast_object_list(box, src=0)
        result = box[0]
    if log:
        changed = {k: v for k, v in result.best_values.items() if result.defaults.get(k) != v}
        log(f"tuning: inner NDCG@10 {result.best_ndcg} (defaults {result.defaults_ndcg}), "
            f"chosen {changed or 'the defaults'}")
    return result


def _train(args, device, ctx) -> dict:
    hosts = json.loads(os.environ.get("SM_HOSTS", "[]") or "[]")
    current_host = os.environ.get("SM_CURRENT_HOST", "")
    # Without torchrun each host would train the same model; only the first one writes.
    writer = ctx.is_main and (ctx.enabled or not hosts or current_host in ("", hosts[0]))
    progress = Progress("train", choose() if ctx.is_main else "off")
    log = progress.echo if ctx.is_main else None
    params = params_from_args(args)

    try:
        size = os.path.getsize(os.path.join(args.train, "interactions.csv"))
    except OSError:
        size = None  # load_channel names the problem
    try:
        with progress.stage("load", total=size, unit="B") as stage:
            train = load_channel(args.train, args.skip_bad_rows, on_bytes=stage.update)
            stage.summary = f"{len(train.weights):,} interactions, {train.skipped_rows} bad rows skipped"
            val_rows = None
            if args.validation:
                val_rows, skipped = read_interaction_rows(os.path.join(args.validation, "interactions.csv"),
                                                          args.skip_bad_rows)
                train.skipped_rows += skipped
                stage.summary += f"; validation {len(val_rows):,} interactions"
            # feedback.csv of either channel is optional: absent or header-only is no feedback.
            feedback_rows, skipped = load_feedback(args.train, args.skip_bad_rows)
            held_out_feedback, skipped_held_out = load_feedback(args.validation, args.skip_bad_rows)
            train.skipped_rows += skipped + skipped_held_out
            stage.summary += f"; feedback {len(feedback_rows):,} served items"
    except DataError as exc:
        print(f"data error: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(2)
    if log:
        log(f"train: {train.num_users} users, {train.num_items} artists, {len(train.weights)} interactions, "
            f"{train.skipped_rows} bad rows skipped, device {device}, world size {ctx.world_size}")

    # Only the process that writes the outputs writes checkpoints, so the per-job S3 prefix holds
    # one file per stage; every rank (and host) reads the copy SageMaker restored next to it.
    checkpoints = CheckpointDir(args.checkpoint_dir, writer=writer, log=log) if args.checkpoint_dir else None
    if checkpoints is None and log:
        log("checkpoint: off (empty --checkpoint-dir); an interruption restarts from sweep 0")
    # A warm start reuses the champion's hyperparameters and skips tuning (warm_start.py says why).
    warm = warm_start.plan(args.champion, args.warm_start, params, args.warm_start_sweeps, args.tune, log,
                           cold_every=args.cold_every)
    if warm.used:
        params = warm.params

    weighting = feedback_report = None
    if feedback_rows:
        played = train
        train, weighting, feedback_report = learn_from_feedback(train, feedback_rows, params, lambda data: fit_stage(
            progress, "fit without feedback (weighting parts)", data, params, device, ctx, log, checkpoints, "base",
            warm))
        # The merged pairs keep their plays' timestamps (a pair only clicked has none: the oldest).
        train = dataclasses.replace(train, last_ts=played.last_ts_of(train.triples()))
        if val_rows is not None:
            val_rows = pairs_not_in(val_rows, train)

    if args.validation:
        fit_data, refit = train, False
    else:
        train_rows, val_rows = per_user_split(train.triples(), args.holdout_seed)
        fit_data = build_interactions(train_rows, train.user_features, negatives=train.negative_pairs(),
                                      timestamps=train.last_ts_of(train_rows))
        refit = args.refit_full
    # Tuned on the fit's data only: the holdout that measures the model takes no part in choosing it.
    search = (tune_stage(progress, fit_data, params, args, device, ctx, log, checkpoints)
              if args.tune and not warm.used else None)
    if search is not None:
        params = search.best
    began = time.perf_counter()
    stage = "train" if args.validation else "holdout"
    label = "fit" if args.validation else "fit (holdout of train)"
    trained = fit_stage(progress, label, fit_data, params, device, ctx, log, checkpoints, stage, warm)
    trained.weighting = weighting
    fit_seconds = time.perf_counter() - began
    with progress.stage("evaluate") as step:
        report = evaluate(trained, val_rows, args.eval_k, args.threshold_keep)
        step.summary = (f"{report['evaluated_users']:,} users, NDCG@{args.eval_k} "
                        f"{report['model'][f'ndcg_at_{args.eval_k}']:.3f} (popularity "
                        f"{report['popularity'][f'ndcg_at_{args.eval_k}']:.3f}), threshold {report['threshold']:.3f}")
    if refit:
        began = time.perf_counter()
        trained = fit_stage(progress, "refit (all of train)", train, params, device, ctx, log, checkpoints, "full",
                            warm)
        trained.weighting = weighting
        fit_seconds += time.perf_counter() - began

    hyperparameters = {k: v for k, v in vars(args).items()
                       if k not in NOT_HYPERPARAMETERS and (search is not None or k not in TUNING_SETTINGS)}
    if search is not None:
        # The chosen values, so metrics.json and the model version name the model that was trained.
        hyperparameters.update(search.best_values)
    if warm.used:
        hyperparameters.update(warm_start.hyperparameter_values(warm.params, hyperparameters))
    model_version = os.environ.get("TRAINING_JOB_NAME") or data_fingerprint(train, hyperparameters)
    k = args.eval_k
    metrics = {
        "model_version": model_version,
        "num_users": trained.data.num_users,
        "num_items": trained.data.num_items,
        "num_interactions": int(len(trained.data.weights)),
        "skipped_rows": train.skipped_rows,
        "evaluated_users": report["evaluated_users"],
        "threshold": report["threshold"],
        "fit_seconds": round(fit_seconds, 3),
        "world_size": ctx.world_size,
        "device": str(device),
    }
    for name in ("recall", "ndcg", "hit_rate", "precision", "coverage"):
        key = f"{name}_at_{k}"
        metrics[key] = report["model"][key]
        metrics[f"thresholded_{key}"] = report["model_thresholded"][key]
        metrics[f"popularity_{key}"] = report["popularity"][key]
    metrics["hyperparameters"] = hyperparameters
    if search is not None:
        metrics["tuning"] = search.to_dict()
    metrics["warm_start"] = warm.report()
    if feedback_report is not None:
        add_feedback_metrics(metrics, feedback_report, held_out_clicks(trained, held_out_feedback))

    if writer:
        with progress.stage("write") as step:
            trained.save(args.model_dir, model_version, report["threshold"], metrics)
            _write_json(os.path.join(args.output_data_dir, "metrics.json"), metrics)
            _write_json(os.path.join(args.model_dir, "metrics.json"), metrics)
            write_batch_outputs(trained, model_version, report["threshold"], args.k, args.output_data_dir)
            step.summary = f"model {model_version} to {args.model_dir}, {trained.data.num_users:,} users' top-{args.k}"
        for name, value in metrics.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                progress.echo(f"metric: {name}={value}")
    return metrics


def main(argv=None) -> None:
    run(argv)


if __name__ == "__main__":
    main()
