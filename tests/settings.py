"""The project's settings for the test suite: the same, plus a "replica" alias that mirrors the test
database (Django's TEST MIRROR), so that tests can check which alias a page reads. The router stays off,
as without DATABASE_REPLICA_URL; tests/test_db_routers.py turns it on where it checks the routing."""

from lkmm.settings import *  # noqa: F403
from lkmm.settings import DATABASES

DATABASES["replica"] = {**DATABASES["default"], "TEST": {"MIRROR": "default"}}
DATABASE_ROUTERS = []
