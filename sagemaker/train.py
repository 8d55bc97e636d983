"""SageMaker script-mode entry point: `python train.py --name value ...` (cwd = this folder).

See recommender/train_job.py for the hyperparameters and the channel/output contract.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from recommender.train_job import main  # noqa: E402

if __name__ == "__main__":
    main()
