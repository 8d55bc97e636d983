"""Puts the model code and the shared test helpers on the import path for every test folder."""
import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
for _path in (_HERE, os.path.dirname(_HERE)):
    if _path not in sys.path:
        sys.path.insert(0, _path)


def pytest_configure(config):
    # `-m "not sagemaker_image"` leaves out the tests that run the SageMaker images' environments.
    config.addinivalue_line(
        "markers", "sagemaker_image: runs model code through the SageMaker images' toolkits (.venv-sagemaker-*)")
    # The `implicit` peer of recommender:bench is in .venv only; npm run test:py:training-torch, which runs
    # the rest on the training image's torch, leaves these out.
    config.addinivalue_line("markers", "implicit_peer: needs the implicit library (.venv, not the image environments)")
    # torch marks CSR tensors beta on first use; als.py silences the same message for the jobs, and
    # pytest resets warning filters per test, so it is silenced here as well.
    config.addinivalue_line("filterwarnings", "ignore:Sparse CSR tensor support is in beta state")
