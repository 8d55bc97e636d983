"""Artist recommender: iALS collaborative filtering with user side features, cosine-scored.

Modules (one idea each):
  data          training-channel contract (interactions.csv, users.csv) and validation
  feedback      feedback.csv of a channel: clicks as interactions, passes as explicit negatives
  weighting     learned weighting of the score's parts (logistic regression on clicks), tanh mapping
  split         deterministic per-user holdout rule (the benchmark protocol's)
  lastfm        Last.fm hetrec2011 official split with md5 verification
  als           iALS solver (conjugate gradient, or exact Cholesky / Woodbury), data-parallel under torch.distributed
  distributed   process-group setup from torchrun's environment
  checkpoint    per-sweep ALS checkpoints for managed spot training (atomic, keyed, verified)
  model         feature columns, fitting, cosine vectors, artefact writing
  inference     standalone SageMaker handler (model_fn/input_fn/predict_fn/output_fn)
  evaluation    held-out metrics for model and popularity, threshold choice
  metrics       Recall/NDCG/HitRate/Precision/Coverage@K
  train_job     SageMaker script-mode job (train.py at the source root calls it)
  channels      training channels from `npm run data:generate` output, by the ETL snapshot's rules
  local_train   runs train.py with SM_* variables on local folders
  local_server  /ping + /invocations around code/inference.py
  offline       benchmark interface: --train DIR --k K --out RECS.tsv
  bench         Last.fm (or channel) benchmark table and --plot, and --gpu-synthetic (gpu_synthetic)
  plots         PNG charts: benchmark quality per segment, serving latency distribution
  progress      stderr progress: a live bar on a terminal, one line per stage elsewhere
  cli           one-line errors and exit codes of the command-line tools
  synthetic     planted-taste synthetic data for tests
  planted_clicks  channels with a planted click model (interactions, users, served-list feedback)
  feedback_bench  with vs without feedback on held-out clicks of planted data
"""
