"""The configuration's checks and its URL round trip."""

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from playground_strategies import JSON

from ildl.errors import ArgumentError
from ildl.playground.config import Config

VARIED = Config(problem="multiclass", dataset="spiral", classes=5, noise=0.35, points=1230,
                train_ratio=0.7, data_seed=123456, features=("x2", "sinx1", "x1x2"),
                hidden=((3, "relu"), (32, "leaky_relu"), (1, "gelu")), dropout=0.25,
                regularization="l1", regularization_rate=0.003, optimizer="rmsprop",
                learning_rate=1e-5, batch_size=7, seed=2**31 - 1)


@pytest.mark.parametrize("config", [Config(), VARIED,
                                    Config(problem="regression", dataset="bumps", hidden=()),
                                    Config(learning_rate=0.1 + 0.2, noise=1 / 3)])
def test_a_configuration_survives_its_url(config):
    query = config.to_query()
    assert Config.from_query(query) == config
    assert Config.from_query("?" + query) == config
    assert Config.from_dict(config.to_dict()) == config


def test_the_url_is_readable():
    query = VARIED.to_query()
    assert "layers=3-relu,32-leaky_relu,1-gelu" in query
    assert "features=x2,sinx1,x1x2" in query
    assert "lr=1e-05" in query


def test_missing_url_settings_keep_their_defaults():
    assert Config.from_query("dataset=xor&seed=4") == Config(dataset="xor", seed=4)
    assert Config.from_query("") == Config()


@pytest.mark.parametrize("query, message", [
    ("datset=xor", "unknown URL setting 'datset' .*did you mean 'dataset'"),
    ("dataset=spirals", "did you mean 'spiral'"),
    ("dataset=plane", "dataset for a binary problem"),
    ("points=lots", "points='lots' must be a whole number"),
    ("points=5", "points must be an integer >= 20"),
    ("points=99999", "points must be at most 2000"),
    ("lr=nan", "learning_rate must be a finite number"),
    ("lr=inf", "learning_rate must be a finite number"),
    ("layers=8", "must be units-activation"),
    ("layers=8-tanhh", "did you mean 'tanh'"),
    ("layers=" + ",".join(["2-relu"] * 9), "at most 8 hidden layers"),
    ("layers=33-relu", "at most 32"),
    ("features=", "choose one or more"),
    ("features=x1,x1", "choose one or more different"),
    ("features=x3", "unknown feature 'x3'"),
    ("classes=7", "at most 6"),
    ("ratio=0.95", "train_ratio"),
    ("seed=-1", "seed='-1' must be a whole number"),
])
def test_a_wrong_url_setting_is_named(query, message):
    with pytest.raises(ArgumentError, match=message):
        Config.from_query(query)


@pytest.mark.parametrize("values, message", [
    ({"learning_rat": 0.1}, "did you mean 'learning_rate'"),
    ({"points": True}, "points must be an integer"),
    ({"points": 100.0}, "points must be an integer"),
    ({"hidden": [[8]]}, r"a hidden layer is \[units, activation\]"),
    ({"hidden": "8-tanh"}, "hidden must be a list"),
    ({"features": [1]}, "unknown feature 1"),
    ({"noise": "0.1"}, "noise must be a number"),
    ({"optimizer": None}, "unknown optimizer None"),
])
def test_a_wrong_page_setting_is_named(values, message):
    with pytest.raises(ArgumentError, match=message):
        Config.from_dict({**Config().to_dict(), **values})


def test_a_configuration_cannot_be_changed_behind_its_checks():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Config().points = 1


NAMES = [field.name for field in dataclasses.fields(Config)]


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(NAMES + ["bogus"]), JSON, max_size=6))
def test_any_json_from_the_page_is_a_configuration_or_an_argument_error(values):
    try:
        config = Config.from_dict(values)
    except ArgumentError:
        return
    assert Config.from_query(config.to_query()) == config


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60) | st.lists(st.tuples(st.sampled_from(
    ["problem", "dataset", "points", "layers", "features", "lr", "seed", "x"]),
    st.text(max_size=12)), max_size=5).map(lambda pairs: "&".join(f"{k}={v}" for k, v in pairs)))
def test_any_address_is_a_configuration_or_an_argument_error(query):
    try:
        Config.from_query(query)
    except ArgumentError:
        pass
