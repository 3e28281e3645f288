"""Full-text search of tickets, one function for both databases: FTS5 on SQLite, a weighted
tsvector on PostgreSQL (the index itself: search/schema.py).

What a search means, on both: each word of the query must occur in the ticket (its subject,
its messages, and for agents its requester's name and address); a word of two or more
characters also matches the words it begins ("wif" finds "wifi"). Anything else in the query
(quotes, operators, `*`, `-`) only separates words, so no input is a syntax error.
"""

import re
import unicodedata
from typing import Any

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connections
from django.db.models import Expression, F, QuerySet
from django.db.models.expressions import Combinable

from tickets.models import Ticket

from .models import TicketDocument, TicketFts

# Letters and digits, as FTS5's unicode61 tokenizer reads words.
_WORD = re.compile(r"[^\W_]+")
# A longer query only costs time: these words already narrow it to a handful of tickets.
MAX_TERMS = 8
# PostgreSQL refuses words over 2 KB in a query; a prefix this long is as good.
MAX_TERM_CHARS = 64
# Ranking costs a score per matching ticket (about 0.6 µs each in FTS5, 60 ms at 100,000):
# past this many matches the tickets keep the caller's order (the newest first in the admin)
# instead. A word that common tells the tickets apart little anyway (its bm25 weight is ~0).
RANK_AT_MOST = 1000
# PostgreSQL's ts_rank weights of the parts (D requester, C hidden, B visible, A subject),
# in line with the FTS5 column weights in schema.FTS_WEIGHTS.
PG_WEIGHTS = [0.4, 0.4, 0.4, 1.0]
# ts_rank's normalisation 1: divide by 1 + log(length), so long tickets do not win by size.
PG_NORMALIZATION = 1


def search_terms(query: str) -> list[str]:
    """The words searched for, lower-cased, each once, in the order given."""
    words = _WORD.findall(unicodedata.normalize("NFC", query).lower())
    return list(dict.fromkeys(word[:MAX_TERM_CHARS] for word in words))[:MAX_TERMS]


def search_tickets(
    queryset: QuerySet[Ticket], query: str, *, internal: bool = False
) -> QuerySet[Ticket]:
    """The tickets of `queryset` that match `query`, best first (annotated `search_rank`,
    higher is better) when at most RANK_AT_MOST match, else in the queryset's own order.

    internal=False searches what the requester sees: the subject and the visible messages.
    internal=True (agents only) searches internal notes, hidden drafts and the requester's
    username, e-mail and name too. A blank query leaves the queryset as it is; one with no
    words in it ("***") matches nothing.
    """
    if not query.strip():
        return queryset
    terms = search_terms(query)
    if not terms:
        return queryset.none()
    vendor = connections[queryset.db].vendor
    if vendor == "sqlite":
        expression = _fts5_query(terms, internal)
        ids: QuerySet[Any, Any] = TicketFts.objects.filter(document__match=expression)
        join: dict[str, object] = {"search_fts__document__match": expression}
        rank: Expression | Combinable = -F("search_fts__rank")
    elif vendor == "postgresql":
        tsquery = SearchQuery(_tsquery(terms, internal), search_type="raw", config="simple")
        ids = TicketDocument.objects.filter(document=tsquery)
        join = {"search_document__document": tsquery}
        rank = SearchRank(
            F("search_document__document"),
            tsquery,
            weights=PG_WEIGHTS,
            normalization=PG_NORMALIZATION,
        )
    else:
        raise NotImplementedError(f"Ticket search supports SQLite and PostgreSQL, not {vendor}")
    ids = ids.values("ticket_id")
    # Through the join the index drives: stops at the limit whatever matches.
    if _more_than(queryset.filter(**join), RANK_AT_MOST):
        # Walk the queryset in its own order (an index), keeping the tickets that match, and
        # stop at the page's end. Written as pk + 0, the membership test cannot drive the
        # query: if it did, every match would be fetched and sorted, 200 ms at 100,000.
        return queryset.alias(_search_id=F("pk") + 0).filter(_search_id__in=ids)
    return (
        queryset.filter(**join)
        .annotate(search_rank=rank)
        .order_by(F("search_rank").desc(), *_order_of(queryset))
    )


def _prefix(term: str) -> bool:
    # One letter as a prefix matches a good part of the dictionary: slow and no help.
    return len(term) >= 2


def _fts5_query(terms: list[str], internal: bool) -> str:
    # Quoted, every term is a plain string to FTS5 (AND, OR, NOT, NEAR included).
    phrases = " ".join(f'"{term}"*' if _prefix(term) else f'"{term}"' for term in terms)
    return phrases if internal else "{subject visible} : (" + phrases + ")"


def _tsquery(terms: list[str], internal: bool) -> str:
    # Weights A and B: the subject and the visible messages (schema._PG_FUNCTIONS).
    weights = "" if internal else "AB"
    return " & ".join(
        f"'{term}':*{weights}"
        if _prefix(term)
        else f"'{term}'" + (f":{weights}" if weights else "")
        for term in terms
    )


def _more_than(matches: QuerySet[Ticket], limit: int) -> bool:
    # Counts no further than limit + 1, in no particular order: cheap whatever matches.
    return matches.order_by()[: limit + 1].count() > limit


def _order_of(queryset: QuerySet[Ticket]) -> list[str | Combinable]:
    """The queryset's ordering (its model's by default), ending on the primary key."""
    query = queryset.query
    given = query.order_by or (Ticket._meta.ordering if query.default_ordering else None)
    ordering = list(given or [])
    if "pk" not in ordering and "-pk" not in ordering:
        ordering.append("-pk")
    return ordering
