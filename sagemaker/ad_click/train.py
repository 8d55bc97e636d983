"""SageMaker script-mode entry point of the click model: `python train.py --name value ...`.

The source bundle ships this file as `train.py` beside the `common` and `ad_click` packages (the
container's cwd); run from the repository, it sits inside the package, whose parent holds both.
See train_job.py for the hyperparameters and the channel/output contract.
"""
import os
import sys

_here = os.path.dirname(os.path.abspath(__file__))
_root = _here if os.path.isdir(os.path.join(_here, "ad_click")) else os.path.dirname(_here)
# Run from inside the package, Python put the package folder first on the path, where its modules
# would shadow top-level names; the folder holding the packages replaces it.
sys.path[:] = [_root] + [p for p in sys.path if os.path.abspath(p or ".") not in (_here, _root)]

from ad_click.train_job import PROG, main  # noqa: E402
from common.cli import run  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(run(PROG, main))
