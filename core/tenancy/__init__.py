"""The one mechanism that keeps every business's records apart.

The current business lives in a context variable, set once per request (from the host name, or a
``/b/<slug>`` path prefix in development) and once per background job. Every ORM statement that touches a
:class:`TenantScoped` model is filtered to that business automatically, and every new row is stamped with
it, so a view or a plugin cannot forget. A statement on tenant data with no business set is an error, not an
unfiltered read. Code that really must cross businesses (the worker looking for due work) says so with
``execution_options(all_businesses=True)``.
"""

from __future__ import annotations

import contextvars
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import ForeignKey, bindparam, event
from sqlalchemy.orm import Mapped, Session, declared_attr, mapped_column, with_loader_criteria

_current_business_id: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "suprata_business_id", default=None
)


class TenancyError(RuntimeError):
    """Tenant data was read or written without, or across, a business context."""


def utcnow() -> datetime:
    """Timezone-aware now in UTC; every timestamp column stores UTC."""
    return datetime.now(UTC)


class TenantScoped:
    """Mixin for every table that belongs to one business (core's and plugins' alike)."""

    @declared_attr
    def business_id(cls) -> Mapped[int]:  # noqa: N805 - SQLAlchemy declared_attr takes the class
        return mapped_column(ForeignKey("business.id", ondelete="CASCADE"), index=True, nullable=False)


def current_business_id() -> int | None:
    return _current_business_id.get()


def require_business_id() -> int:
    business_id = _current_business_id.get()
    if business_id is None:
        raise TenancyError("no business is selected for this request or job")
    return business_id


@contextmanager
def business_context(business_id: int):
    """Run a block (a job, a CLI command, a test) as the given business."""
    token = _current_business_id.set(business_id)
    try:
        yield
    finally:
        _current_business_id.reset(token)


def enter_business(business_id: int | None) -> contextvars.Token:
    """Select a business for the rest of the current request; pair with :func:`leave_business`."""
    return _current_business_id.set(business_id)


def leave_business(token: contextvars.Token) -> None:
    _current_business_id.reset(token)


def _touches_tenant_data(state) -> bool:
    return any(issubclass(mapper.class_, TenantScoped) for mapper in state.all_mappers)


# One criteria option for every business: the business is a bound parameter, so a statement compiles once
# and its compiled form serves every business (a criteria holding the id itself would be new each time).
_BUSINESS_PARAMETER = "suprata_business_id"
_SCOPED_TO_BUSINESS = with_loader_criteria(
    TenantScoped,
    lambda cls: cls.business_id == bindparam("suprata_business_id"),  # a literal: the lambda is analysed
    include_aliases=True,
)


def _with_business(parameters, business_id: int):
    if isinstance(parameters, list | tuple):
        return [{**row, _BUSINESS_PARAMETER: business_id} for row in parameters]
    return {**(parameters or {}), _BUSINESS_PARAMETER: business_id}


@event.listens_for(Session, "do_orm_execute")
def _scope_statement_to_business(state) -> None:
    if state.is_column_load or state.is_relationship_load:
        # The parent statement's criteria propagate to these loads; they need the business to compare with.
        if _BUSINESS_PARAMETER not in (state.parameters or {}) and _touches_tenant_data(state):
            state.parameters = _with_business(state.parameters, require_business_id())
        return
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if state.execution_options.get("all_businesses", False):
        return
    if not _touches_tenant_data(state):
        return
    state.statement = state.statement.options(_SCOPED_TO_BUSINESS)
    state.parameters = _with_business(state.parameters, require_business_id())


@event.listens_for(Session, "before_flush")
def _stamp_and_guard_writes(session, flush_context, instances) -> None:
    business_id = current_business_id()
    for obj in session.new:
        if not isinstance(obj, TenantScoped):
            continue
        if obj.business_id is None:
            obj.business_id = require_business_id()
        elif business_id is not None and obj.business_id != business_id:
            raise TenancyError(f"refusing to create a {type(obj).__name__} for another business")
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, TenantScoped) and business_id is not None and obj.business_id != business_id:
            raise TenancyError(f"refusing to change a {type(obj).__name__} of another business")
