"""Answers asked several times in one request (the middleware, the view's guard, the wall,
the navigation), computed once.

Kept on ``request.user``, the lazy object Django builds for each request and drops after it,
never on a plain ``User``: tests and commands keep those across changes of memberships."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.utils.functional import LazyObject

T = TypeVar("T")


def per_request(user: Any, key: str, compute: Callable[[], T]) -> T:
    if not isinstance(user, LazyObject):
        return compute()
    store = user.__dict__  # the lazy object's own attributes, not the wrapped user's
    if key not in store:
        store[key] = compute()
    return store[key]


def forget(user: Any, key: str) -> None:
    if isinstance(user, LazyObject):
        user.__dict__.pop(key, None)
