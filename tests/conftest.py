import pytest

from tests.factories import make_world


@pytest.fixture
def world(db):
    return make_world()


def pytest_collection_modifyitems(config, items):
    """Tests marked `long` (100,000-row imports: 5 to 20 minutes each) run only when asked,
    with BAMARA_LONG_TESTS=1 (`make test-long`), not in every `make test`."""
    import os

    if os.environ.get("BAMARA_LONG_TESTS") == "1":
        return
    skip = pytest.mark.skip(reason="long test: set BAMARA_LONG_TESTS=1 (make test-long)")
    for item in items:
        if "long" in item.keywords:
            item.add_marker(skip)
