"""Who has a ticket open in the admin right now: heartbeats in Redis that expire on their own.

One sorted set per ticket: member the agent's id, score the time their presence runs out.
A page that stops beating (closed tab, lost network) drops out after PRESENCE_TTL_S; the
set itself expires when nobody beats. Presence is a courtesy: with Redis down the ticket
page works the same and says it cannot tell who else is there.
"""

import logging
import time
from functools import cache

import redis
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User

log = logging.getLogger(__name__)

# A ticket page must never wait long on a courtesy.
_REDIS_TIMEOUT_S = 0.5


@cache
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(
        url, socket_connect_timeout=_REDIS_TIMEOUT_S, socket_timeout=_REDIS_TIMEOUT_S
    )


def _key(ticket_id: int) -> str:
    return f"helpdesk:presence:ticket:{ticket_id}"


def beat(ticket_id: int, agent: User) -> list[User] | None:
    """Record that `agent` has the ticket open; the others who have it open now, or None
    when Redis cannot be reached."""
    now = time.time()
    ttl = settings.PRESENCE_TTL_S
    key = _key(ticket_id)
    try:
        pipe = _client(settings.REDIS_URL).pipeline()
        pipe.zadd(key, {str(agent.pk): now + ttl})
        pipe.zremrangebyscore(key, "-inf", now)
        pipe.expire(key, ttl)
        pipe.zrange(key, 0, -1)
        *_, members = pipe.execute()
    except redis.RedisError:
        log.warning("Presence of ticket #%s unknown: Redis unreachable", ticket_id)
        return None
    others = {int(m) for m in members} - {agent.pk}
    return list(get_user_model().objects.filter(pk__in=others).order_by("username"))
