"""The published 000-cloudgear-events recipe, run as written in this module (Hookline imports it in the worker)."""

from tests.seeds.recipes import run_python

run_python("000-cloudgear-events", globals())
