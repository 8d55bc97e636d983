"""SageMaker script-mode entry point: `python train.py --name value ...`.

The source bundle ships this file as `train.py` beside the `common` and `artist_recommender`
packages (the container's cwd); run from the repository, it sits inside the package, whose parent
holds both. See train_job.py for the hyperparameters and the channel/output contract.
"""
import os
import sys

_here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, _here if os.path.isdir(os.path.join(_here, "artist_recommender")) else os.path.dirname(_here))

from artist_recommender.train_job import main  # noqa: E402

if __name__ == "__main__":
    main()
