"""The catalogue's import commands refuse bad options with a message, before touching anything."""

import pytest
from django.core.management import CommandError, call_command

from departments.models import Asset, Place


@pytest.mark.parametrize("command", ["import_places", "import_assets"])
def test_a_missing_file_is_refused_by_name(db, tmp_path, command):
    extra = ["--layer", "lights"] if command == "import_assets" else []
    with pytest.raises(CommandError, match="No such file"):
        call_command(command, str(tmp_path / "nothing.csv"), *extra)
    assert not Place.objects.exists() and not Asset.objects.exists()


@pytest.mark.parametrize("command", ["import_places", "import_assets"])
def test_a_batch_size_below_one_is_refused(db, tmp_path, command):
    path = tmp_path / "rows.csv"
    path.write_text("id,lat,lon\n1,41.88,-87.63\n")
    extra = ["--layer", "lights"] if command == "import_assets" else []
    with pytest.raises(CommandError, match="at least 1"):
        call_command(command, str(path), "--batch-size", "0", *extra)
    assert not Place.objects.exists() and not Asset.objects.exists()
