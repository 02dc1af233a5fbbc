"""Every process of giftcash wires itself with ``build_deps``, which tunes CPython's cyclic
collector for many short-lived objects (bootstrap.GC_THRESHOLDS, docs/performance.md)."""

from __future__ import annotations

import gc

from giftcash.bootstrap import GC_THRESHOLDS, build_deps
from giftcash.config import Settings


def test_building_the_dependencies_sets_the_collectors_thresholds(tmp_path):
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)  # the interpreter's defaults
    try:
        build_deps(Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path}/t.db"))
        assert gc.get_threshold() == GC_THRESHOLDS
        assert gc.isenabled()  # tuned, never turned off: cycles are still collected
    finally:
        gc.set_threshold(*before)
