"""Read side of the catalogue: lists, filters and Chinese search.

Search works on both databases without a Chinese tokenizer: substring matching finds two-character
words such as 户籍 or 护照 (where SQLite FTS5 trigrams and pg_trgm under a C ctype fail), and a
fallback on overlapping character pairs lets a sentence such as “我想办护照” still find passports.
The catalogue is a few hundred rows, so ranking in Python costs well under a millisecond.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db.models import Count, Prefetch, Q, QuerySet

from servicehall.accounts.models import Department

from .models import LifeEvent, ServiceItem

MAX_QUERY_LENGTH = 50
_PUNCTUATION = re.compile(r"[\s,，。.、;；:：!！?？\"'“”‘’()（）《》<>/\\|]+")
_CJK = re.compile(r"[\u3400-\u9fff]")
# Pairs that carry no meaning on their own would match almost every item.
_STOP_PAIRS = {
    "办理",
    "我要",
    "我想",
    "如何",
    "怎么",
    "怎样",
    "需要",
    "申请",
    "可以",
    "什么",
    "哪里",
    "要办",
    "想办",
}


class QueryTooLong(ValueError):
    pass


@dataclass(frozen=True)
class Hit:
    item: ServiceItem
    score: int


def normalise(query: str) -> list[str]:
    query = (query or "").strip()
    if len(query) > MAX_QUERY_LENGTH:
        raise QueryTooLong(MAX_QUERY_LENGTH)
    return [term for term in _PUNCTUATION.split(query.lower()) if term]


def active_items() -> QuerySet[ServiceItem]:
    return ServiceItem.active.select_related("department")


def _term_score(item: ServiceItem, term: str) -> int:
    name = item.name.lower()
    if term == name:
        return 200
    if term in name or term in item.name_en.lower():
        return 100
    keywords = [k.lower() for k in item.document.get("keywords", [])]
    if term in keywords:
        return 80
    if any(term in k for k in keywords):
        return 60
    if term in item.search_text:
        return 20
    return 0


def _pairs(term: str) -> set[str]:
    chars = [c for c in term if _CJK.match(c)]
    return {a + b for a, b in zip(chars, chars[1:], strict=False)} - _STOP_PAIRS


def search(query: str, items: QuerySet[ServiceItem] | None = None) -> list[Hit]:
    """Items matching every term (best first); if none do, items sharing character pairs."""
    terms = normalise(query)
    if not terms:
        return []
    candidates = list(items if items is not None else active_items())
    hits = []
    for item in candidates:
        scores = [_term_score(item, term) for term in terms]
        if all(scores):
            hits.append(Hit(item, sum(scores)))
    if not hits:
        pairs = set().union(*(_pairs(term) for term in terms))
        for item in candidates:
            score = sum(_term_score(item, pair) for pair in pairs)
            if score:
                hits.append(Hit(item, score))
    hits.sort(key=lambda hit: (-hit.score, hit.item.department.position, hit.item.code))
    return hits


def departments_with_counts() -> QuerySet[Department]:
    # Meta.ordering does not apply to GROUP BY queries, hence the explicit order_by.
    return (
        Department.objects.annotate(item_count=Count("items", filter=Q(items__is_active=True)))
        .filter(item_count__gt=0)
        .order_by("position")
    )


def life_events_with_counts() -> QuerySet[LifeEvent]:
    return (
        LifeEvent.objects.annotate(item_count=Count("items", filter=Q(items__is_active=True)))
        .filter(item_count__gt=0)
        .order_by("position")
    )


def power_list() -> QuerySet[Department]:
    """Departments holding approval powers, each with its power-list items prefetched."""
    powers = ServiceItem.active.filter(in_power_list=True).order_by("item_type", "code")
    return (
        Department.objects.filter(items__in=powers)
        .distinct()
        .order_by("position")
        .prefetch_related(Prefetch("items", queryset=powers, to_attr="powers"))
    )


def featured_items() -> QuerySet[ServiceItem]:
    """The services a data file marks `featured: true`: shown first on the home page."""
    return active_items().filter(document__featured=True)
