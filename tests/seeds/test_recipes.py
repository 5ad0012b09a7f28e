"""The recipe reader: every recipe the seed tests run is on the published page, in a language it can run."""

from __future__ import annotations

import pytest

from . import recipes

USED = {  # what tests/seeds runs, by document
    "000": ["000-cloudgear-events", "000-cloudgear-endpoints", "000-cloudgear-usage-schedule"],
    "001": ["001-apigee"],
    "002": ["002-ricloud-create", "002-ricloud-update", "002-ricloud-test", "002-ricloud-retire"],
    "003": ["003-bugyo-cloud", "003-bugyo-cloud-enable"],
    "004": ["004-store-notice", "004-store-notice-emit", "004-store-notice-receiver"],
}


def test_the_page_publishes_every_recipe_the_seed_tests_run_and_nothing_unused():
    published = recipes.recipes()
    assert sorted(published) == sorted(name for names in USED.values() for name in names)
    for recipe in published.values():
        assert recipe.lang in {"python", "sh"} and recipe.code.strip()
        if recipe.lang == "python":
            compile(recipe.code, recipe.name, "exec")  # a syntax error on the page fails here, not in a worker


def test_the_store_notice_recipe_puts_no_token_in_the_contract():
    # constants carry no credentials: the token is the endpoint's body token, which the preset places
    assert "constants" not in recipes.recipe("004-store-notice").code


def test_example_urls_point_at_the_receiver_with_their_host_as_the_first_path_segment():
    code = 'url="https://UserID:PassWord@hooks.example/in", other = "https://www.b.example/x/"; keep="https://a.com/"'
    assert recipes.pointed_at(code, "http://127.0.0.1:8123") == (
        'url="http://UserID:PassWord@127.0.0.1:8123/hooks.example/in", other = "http://127.0.0.1:8123/www.b.example/x/";'
        ' keep="https://a.com/"'
    )
    assert recipes.path_of("https://UserID:PassWord@hooks.example/in") == "/hooks.example/in"


def test_a_missing_recipe_or_one_run_in_the_wrong_language_is_refused():
    with pytest.raises(LookupError, match="no recipe 'nope'"):
        recipes.recipe("nope")
    with pytest.raises(ValueError, match="is sh, not python"):
        recipes.run_python("001-apigee")


def test_two_recipes_with_one_name_are_refused(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("<!-- recipe: a -->\n```sh\ntrue\n```\n\n<!-- recipe: a -->\n```sh\nfalse\n```\n")
    with pytest.raises(ValueError, match="two recipes are called 'a'"):
        recipes.recipes(page)
    assert recipes._documents('{"a": 1}\n{"b": [2]}[3]') == [{"a": 1}, {"b": [2]}, [3]]
