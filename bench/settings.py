"""Embargo's settings plus the floor views of the benchmarks (bench/urls.py). Only the benchmark servers use it
(DJANGO_SETTINGS_MODULE=bench.settings, the repository root on PYTHONPATH): nothing of it ships in src/embargo."""

from embargo.settings import *  # noqa: F403 - the whole of Embargo's configuration, unchanged

ROOT_URLCONF = "bench.urls"
