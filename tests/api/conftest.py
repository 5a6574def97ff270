"""Fixtures: the config, a filled store and a test client for the app on it."""

import pytest
from fastapi.testclient import TestClient

from api_support import at_now, fill, make_config
from vision.api import create_app
from vision.store import open_store


@pytest.fixture
def config(tmp_path):
    return make_config(tmp_path)


@pytest.fixture
def store(config):
    store = open_store(config.store.url)
    store.sync_config(config)
    fill(store)
    yield store
    store.close()


@pytest.fixture
def client(config, store):
    return TestClient(create_app(config, store, clock=at_now))
