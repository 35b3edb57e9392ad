"""Fixtures of the inventory tests: a small plant with untracked, lot- and serial-tracked items."""

from __future__ import annotations

import pytest

from inventory.models import Item
from tests.factories import PASSWORD, ItemFactory, LocationFactory


@pytest.fixture
def clerk(db):
    """The user the services are called as; signs hold releases with ``PASSWORD``."""
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user(username="clerk", password=PASSWORD)


@pytest.fixture
def stores(db):
    return LocationFactory(code="STORES")


@pytest.fixture
def line(db):
    return LocationFactory(code="LINE")


@pytest.fixture
def screws(db):
    return ItemFactory(code="SCREW", tracking=Item.Tracking.NONE)


@pytest.fixture
def paste(db):
    return ItemFactory(code="PASTE", tracking=Item.Tracking.LOT, unit_id="kg")


@pytest.fixture
def chips(db):
    return ItemFactory(code="CHIP", tracking=Item.Tracking.LOT)


@pytest.fixture
def boards(db):
    return ItemFactory(code="BOARD", tracking=Item.Tracking.SERIAL, kind=Item.Kind.MANUFACTURED)


@pytest.fixture
def phones(db):
    return ItemFactory(code="PHONE", tracking=Item.Tracking.SERIAL, kind=Item.Kind.MANUFACTURED)
