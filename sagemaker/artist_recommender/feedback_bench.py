"""Does served-list feedback make a better model? A planted click model answers it.

    python -m artist_recommender.feedback_bench [--users N] [--items N] [--seed N] [--json] [--keep DIR] [--quiet]

Generates channels with a planted click model (planted_clicks.py), trains through the training
job's entry point twice on the same seed, once without feedback (train-no-feedback/, whose
feedback.csv holds only the header) and once with it (train/), loads each artefact through the
inference handler (model_fn) and scores the held-out served lists (validation/feedback.csv: served
after the cutoff, never trained on):
  click AUC     over every held-out served item
  log loss      of the served score read as a probability, (score + 1) / 2
  NDCG@10       of the clicked items when each held-out list is re-ranked by the model's score
                (lists with at least one click)
  CTR@k         clicked share of the top k of each re-ranked list
  plays NDCG@10 NDCG@10 of each model's top 10 (the handler's, history excluded) against the
                validation channel's later plays, less the pairs clicked in train (the with-feedback
                model counts those as seen, as the job's own evaluation does): the gate's kind of
                metric, since clicks on a shelf and later plays need not agree
beside the served order (the exploring policy: random), the with-feedback model's plain cosine
(the clicks and passes in the collaborative fit, without the learned weighting) and the planted
probabilities (the best any model can do). The log loss of a plain cosine is shown but means little:
nothing calibrated it. Remaining flags (--factors, --iterations, ...) go to the training job.
"""
from __future__ import annotations

import contextlib
import io
import json
import math
import os
import sys
import tempfile
import time

import numpy as np
import torch

from . import inference
from common.cli import Parser, run
from common.progress import Progress, choose
from .feedback import clicked_pairs
from .metrics import ranking_metrics
from .planted_clicks import CLICK_BIAS, CLICK_WEIGHTS, make_planted, write_planted
from .train_job import build_parser
from .train_job import run as train
from .weighting import click_auc, log_loss

PROG = "recommender:feedback-bench"
FAST_TRAINING = ["--factors", "32", "--iterations", "8"]


def list_metrics(served, scores: np.ndarray, k: int = 10, ctr_at: int = 3) -> dict:
    """NDCG@k of the clicked items and CTR@ctr_at after re-ranking each served list by `scores`."""
    lists: dict[str, list] = {}
    for s, score in zip(served, scores):
        lists.setdefault(s.request_id, []).append((-score, s.position, s.clicked))
    ndcg, ctr, with_click = 0.0, 0.0, 0
    for entries in lists.values():
        ranked = [clicked for _, _, clicked in sorted(entries)]
        ctr += sum(ranked[:ctr_at]) / ctr_at
        relevant = sum(ranked)
        if not relevant:
            continue
        with_click += 1
        dcg = sum(c / math.log2(rank + 2) for rank, c in enumerate(ranked[:k]))
        ideal = sum(1 / math.log2(rank + 2) for rank in range(min(k, relevant)))
        ndcg += dcg / ideal
    return {f"ndcg_at_{k}": ndcg / max(1, with_click), f"ctr_at_{ctr_at}": ctr / max(1, len(lists)),
            "lists": len(lists), "lists_with_click": with_click}


def evaluate_scores(served, scores: np.ndarray, probability: np.ndarray) -> dict:
    clicked = np.array([s.clicked for s in served], dtype=np.float64)
    return {"click_auc": click_auc(scores, clicked), "log_loss": log_loss(probability, clicked),
            **list_metrics(served, scores)}


def model_scores(model_dir: str, served, weighted: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Served scores of (user, artist) pairs through the inference handler's model (weighted=False:
    its plain cosine), -1 (the lowest score) for a pair the model does not know, and the click
    probability they stand for: sigmoid(2 atanh(score) + center) with a learned weighting, else
    (score + 1) / 2, which nothing calibrated."""
    model = inference.model_fn(model_dir)
    known = [i for i, s in enumerate(served) if s.user_id in model.user_index and s.item_id in model.item_index]
    scores = np.full(len(served), -1.0)
    users = [model.user_index[served[i].user_id] for i in known]
    items = [model.item_index[served[i].item_id] for i in known]
    scores[known] = model.pair_scores(users, items, weighted)
    weighting = model.config.get("score_weighting") if weighted else None
    if weighting is None:
        return scores, (scores + 1) / 2
    logit = 2 * np.arctanh(np.clip(scores, -1 + 1e-12, 1 - 1e-12)) + weighting["center"]
    return scores, 1 / (1 + np.exp(-logit))


def plays_ndcg(model_dir: str, rows, k: int = 10) -> float:
    """NDCG@k of the handler's top k for known users against held-out (user, item, weight) rows."""
    model = inference.model_fn(model_dir)
    truth: dict[int, set] = {}
    for user, item, _ in rows:
        if user in model.user_index:
            truth.setdefault(model.user_index[user], set()).add(model.item_index.get(item, f"unknown:{item}"))
    users = sorted(truth)
    indices, _ = model.recommend_known(torch.tensor(users, dtype=torch.long), k, threshold=None)
    return ranking_metrics(dict(zip(users, indices)), truth, model.num_items, k)[f"ndcg_at_{k}"]


def bench(users: int, items: int, seed: int, work: str, training_args: list[str], progress: Progress) -> dict:
    with progress.stage("generate") as stage:
        data = make_planted(num_users=users, num_items=items, seed=seed)
        paths = write_planted(work, data)
        stage.summary = (f"{users:,} users, {items:,} artists, {len(data.train_rows):,} interactions, "
                         f"{len(data.train_served):,} served items with feedback, "
                         f"{len(data.validation_served):,} held out")
    served = data.validation_served
    clicked = clicked_pairs(data.train_served)
    later_plays = [row[:3] for row in data.validation_rows if (row[0], row[1]) not in clicked]
    positions = np.array([s.position for s in served], dtype=np.float64)
    results = {"served order (random policy)": evaluate_scores(served, -positions, np.full(len(served), 0.5))}
    results["served order (random policy)"]["log_loss"] = None  # positions are no probability
    runs = {}
    for label, channel in (("without feedback", paths["train-no-feedback"]), ("with feedback", paths["train"])):
        with progress.stage(f"train {label}") as stage:
            began = time.perf_counter()
            out = os.path.join(work, "runs", label.replace(" ", "-"))
            # The job's own log lines (stdout) would break --json: they go with the progress, to stderr.
            with contextlib.redirect_stdout(sys.stderr if progress.mode != "off" else io.StringIO()):
                metrics = train(["--train", channel, "--validation", paths["validation"], "--model-dir",
                                 os.path.join(out, "model"), "--output-data-dir", os.path.join(out, "output"),
                                 "--checkpoint-dir", "", "--seed", str(seed)] + training_args)
            seconds = time.perf_counter() - began
            results[label] = {**evaluate_scores(served, *model_scores(os.path.join(out, "model"), served)),
                              "fit_seconds": round(seconds, 2),
                              "plays_ndcg_at_10": plays_ndcg(os.path.join(out, "model"), later_plays)}
            runs[label] = metrics
            stage.summary = f"click AUC {results[label]['click_auc']:.4f}"
    # What the clicks and passes alone do to the collaborative model, without the learned weighting.
    results["with feedback, cosine only (ablation)"] = evaluate_scores(
        served, *model_scores(os.path.join(work, "runs", "with-feedback", "model"), served, weighted=False))
    truth = np.array([s.probability for s in served])
    results["planted probability (best achievable)"] = evaluate_scores(served, truth, truth)
    feedback = runs["with feedback"].get("feedback", {})
    return {
        "data": {"users": users, "items": items, "seed": seed, "train_interactions": len(data.train_rows),
                 "train_feedback_rows": len(data.train_served),
                 "train_clicks": sum(s.clicked for s in data.train_served),
                 "held_out_rows": len(served), "held_out_clicks": sum(s.clicked for s in served)},
        "planted": {"bias": CLICK_BIAS, "weights": CLICK_WEIGHTS},
        "fitted": {"bias": feedback.get("weighting", {}).get("bias"),
                   "weights": feedback.get("weighting", {}).get("weights"),
                   "clicked_pairs_added": feedback.get("clicked_pairs"),
                   "negative_pairs_added": feedback.get("negative_pairs")},
        "results": results,
    }


def _fmt(value, digits=4) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def table(report: dict) -> str:
    d = report["data"]
    lines = [f"held-out served items {d['held_out_rows']:,} ({d['held_out_clicks']:,} clicks); "
             f"trained on {d['train_interactions']:,} interactions + {d['train_feedback_rows']:,} served items "
             f"({d['train_clicks']:,} clicks)", "",
             f"{'ranking':40} {'click AUC':>10} {'log loss':>9} {'NDCG@10':>8} {'CTR@3':>7} {'plays NDCG@10':>14} "
             f"{'fit s':>6}"]
    for label, r in report["results"].items():
        lines.append(f"{label:40} {_fmt(r['click_auc']):>10} {_fmt(r['log_loss']):>9} {_fmt(r['ndcg_at_10']):>8} "
                     f"{_fmt(r['ctr_at_3']):>7} {_fmt(r.get('plays_ndcg_at_10')):>14} "
                     f"{_fmt(r.get('fit_seconds'), 1):>6}")
    f, p = report["fitted"], report["planted"]
    lines += ["", "NDCG@10 and CTR@3: each held-out served list re-ranked, the clicked items relevant; plays "
                  "NDCG@10: each model's top 10\nagainst the later plays (less the pairs clicked in train)",
              "", f"fitted weighting: bias {f['bias']}, {f['weights']} "
                  f"(parts: cosine, age-group lift, location lift, popularity)",
              f"planted click model: bias {p['bias']}, {p['weights']} "
              f"(parts: taste dot product, age appeal, location appeal, favourite flag)"]
    return "\n".join(lines)


def main(argv=None) -> int:
    p = Parser(prog=PROG, description=__doc__)
    p.add_argument("--users", type=int, default=2000, help="users of the generated data")
    p.add_argument("--items", type=int, default=300, help="artists of the generated data")
    p.add_argument("--seed", type=int, default=1, help="seed of the data and of both fits")
    p.add_argument("--json", action="store_true", help="one JSON document on stdout instead of the table")
    p.add_argument("--keep", help="write the channels and models here (default: a temporary folder)")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p.reject_unknown(argv, also=build_parser(prog=PROG))
    args, rest = p.parse_known_args(argv)
    if args.users < 20:
        p.error("--users must be at least 20")
    if args.items < 40:
        p.error("--items must be at least 40 (lists of 20 unplayed artists)")
    training = build_parser(prog=PROG)
    training.parse_args(rest + ["--train", "-"])  # names a bad training flag before any work
    progress = Progress("feedback-bench", choose(args.quiet))
    os.environ.setdefault("RECOMMENDER_PROGRESS", progress.mode)
    if args.keep:
        os.makedirs(args.keep, exist_ok=True)
        report = bench(args.users, args.items, args.seed, args.keep, FAST_TRAINING + rest, progress)
    else:
        with tempfile.TemporaryDirectory(prefix="feedback-bench-") as work:
            report = bench(args.users, args.items, args.seed, work, FAST_TRAINING + rest, progress)
    print(json.dumps(report, indent=2) if args.json else table(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(run(PROG, main))
