"""Shared pytest setup: a throw-away cache folder so tests never touch the user's cache."""
import os, tempfile, pytest

@pytest.fixture(autouse=True, scope="session")
def _isolated_cache():
    with tempfile.TemporaryDirectory() as d:
        old = os.environ.get("GENCONCEPT_HOME")
        os.environ["GENCONCEPT_HOME"] = d
        yield d
        if old is None: os.environ.pop("GENCONCEPT_HOME", None)
        else: os.environ["GENCONCEPT_HOME"] = old
