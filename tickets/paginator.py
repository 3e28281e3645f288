"""The agents' changelist paginator: counts at most COUNT_CAP matching tickets."""

from functools import cached_property

from django.core.paginator import Paginator
from django.db.models import QuerySet

from .models import Ticket

# Past this many matches nobody pages to the end: they filter or search instead. Counting
# only this many keeps a filtered or sorted COUNT over a join (the SLA sort: 56,000 tickets
# with something due, 168 ms p95 at 100,000 tickets in bench/pages.py) a bounded cost.
COUNT_CAP = 10_000


class CappedCountPaginator(Paginator[Ticket]):
    """A Paginator whose count stops at COUNT_CAP + 1, so "more than COUNT_CAP" is known
    without counting every row; the pages past the cap are not offered."""

    cap = COUNT_CAP

    @cached_property
    def count(self) -> int:
        tickets = self.object_list
        assert isinstance(tickets, QuerySet), "the changelist pages a queryset"
        return tickets.order_by()[: self.cap + 1].count()

    @property
    def is_capped(self) -> bool:
        return self.count > self.cap
