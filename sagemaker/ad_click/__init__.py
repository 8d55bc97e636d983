"""Ad click prediction: the probability that a user clicks an ad, for real-time scoring of candidates.

Modules (one idea each):
  features      the feature contract: CATEGORICAL_FIELDS, the training channel (data.csv), hashing
                into buckets and the vocabulary of buckets that get an embedding row
  generate      a generated data set with known click probabilities (true_p beside the channels)
  model         factorization machine and logistic regression with hashed crosses: training with
                sparse Adagrad/Adam, early stopping, Platt or temperature calibration, the artefact
  metrics       log loss, ROC AUC (ties count one half), expected calibration error
  inference     standalone SageMaker handler (model_fn/input_fn/predict_fn/output_fn); also the
                hashing, encoding and scoring math the training code uses
  train_job     SageMaker script-mode job (train.py, beside the packages in the bundle, calls it)
  local_train   runs train.py with SM_* variables on local folders
  local_server  /ping + /invocations around code/inference.py
  bench         the models against the best achievable (true_p) and the global click rate
"""
