"""A local fake Run:ai control plane for trainings."""

import warnings

# Connexion imports Starlette's test client at start-up, which warns about httpx on every run.
warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
