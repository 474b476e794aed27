from pathlib import Path

import pytest
from django.core.management import call_command

DATA = Path(__file__).resolve().parent.parent / "data"


@pytest.fixture
def data_dir() -> Path:
    return DATA


@pytest.fixture
def run_command(tmp_path):
    """Run a management command; returns its stdout. Rejects go to tmp_path unless told."""
    from io import StringIO

    def run(name: str, *args: str) -> str:
        out = StringIO()
        if name == "import_311" and "--rejects" not in args:
            args = (*args, "--rejects", str(tmp_path / "rejects.csv"))
        call_command(name, *args, stdout=out, stderr=StringIO())
        return out.getvalue()

    return run
