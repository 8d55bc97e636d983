"""What every model-code test shares: the source folder on the import path and a clean child env."""
import os
import sys

SOURCE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if SOURCE_DIR not in sys.path:
    sys.path.insert(0, SOURCE_DIR)


def child_env(**extra) -> dict:
    # Children decide their progress display from their own stderr, not from how pytest was run.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("SM_") and k not in ("CI", "RECOMMENDER_PROGRESS")}
    env["PYTHONPATH"] = SOURCE_DIR
    env.update(extra)
    return env
