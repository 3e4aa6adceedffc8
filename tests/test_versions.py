"""The version records that decide which comparisons with Transformers run (``versions.py``) are right for the
installed Transformers: a record that is too new would skip a comparison that could run, one too old would fail it."""

from __future__ import annotations

import pytest
from versions import FEATURES, TRANSFORMERS


@pytest.mark.parametrize("key", sorted(FEATURES))
def test_each_recorded_version_matches_the_installed_transformers(key: str) -> None:
    feature = FEATURES[key]
    has_it = feature.probe()
    assert has_it == feature.available, (
        f"versions.py records {feature.what} as new in Transformers {feature.since}, but the installed {TRANSFORMERS} "
        f"{'has' if has_it else 'lacks'} it"
    )
