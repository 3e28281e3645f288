"""The search index in the database, per vendor: its tables, the triggers that keep it in
step with tickets, messages and requesters, and its rebuild.

Triggers rather than signals: every write path keeps the index in step in the same
transaction, including those no signal sees (bulk_create, QuerySet.update, raw SQL, data
migrations, the cascades of an erasure or of a deleted account). What they cost is SQL in two
dialects, tested on both, and one catch on SQLite: Django alters most fields there by
rebuilding the table (copy it, drop the old one, rename the copy), and SQLite refuses that
rename while another table's trigger names the dropped one. So on SQLite a migrate that has
migrations to apply drops the triggers first (`drop_triggers`, search.apps), and every
migrate ends with `ensure_index`: triggers missing, it installs them and rebuilds the index,
which may have missed writes meanwhile.

One document per ticket, in parts that searches weigh and filter:
  subject                       the ticket's subject
  visible                       the messages the requester sees
  hidden                        internal notes and hidden drafts (agents only)
  requester                     the requester's username, e-mail and name (agents only)
Words are runs of letters and digits on both vendors (an e-mail address or a host name is
several words), compared without case; accents count ("café" is not "cafe").
"""

from django.apps import apps
from django.conf import settings
from django.db.backends.base.base import BaseDatabaseWrapper

FTS_TABLE = "search_ticket_fts"
DOCUMENT_TABLE = "search_ticketdocument"

# FTS5 weights of the columns in bm25 (subject, visible, hidden, requester): a word in the
# subject counts as much as two and a half in the conversation.
FTS_WEIGHTS = "2.5, 1.0, 1.0, 1.0"
# PostgreSQL keeps each document under tsvector's 1 MB limit: the first this many characters
# of the visible and of the hidden messages are indexed (a ticket's first ~15,000 words each).
PG_MAX_PART_CHARS = 100_000
# ASCII punctuation becomes spaces before PostgreSQL's parser sees the text, so that it splits
# words as FTS5's unicode61 tokenizer does (its parser would keep "vpn.corp.example.com" or
# "alice@example.com" as one token, and a search for "corp" would miss it).
_PG_PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"


def _tables() -> dict[str, str]:
    return {
        "ticket": apps.get_model("tickets", "Ticket")._meta.db_table,
        "message": apps.get_model("tickets", "Message")._meta.db_table,
        "user": apps.get_model(settings.AUTH_USER_MODEL)._meta.db_table,
        "fts": FTS_TABLE,
        "document": DOCUMENT_TABLE,
    }


# --- SQLite: an FTS5 table, rowid = ticket id ----------------------------------------------

_SQLITE_TABLE = [
    """CREATE VIRTUAL TABLE IF NOT EXISTS {fts} USING fts5(
        subject, visible, hidden, requester,
        tokenize = 'unicode61 remove_diacritics 0',
        -- Prefix searches ("wif" for "wifi") of two and three letters read these indexes.
        prefix = '2 3'
    )""",
    "INSERT INTO {fts}({fts}, rank) VALUES ('rank', 'bm25({weights})')",
]

# The documents of the tickets whose ids `{ids}` selects, from the tables as they are now.
_SQLITE_INDEX = (
    "DELETE FROM {fts} WHERE rowid IN ({ids})",
    """INSERT INTO {fts}(rowid, subject, visible, hidden, requester)
SELECT t.id, t.subject,
    (SELECT group_concat(m.body, char(10)) FROM {message} m
     WHERE m.ticket_id = t.id AND m.visible_to_user),
    (SELECT group_concat(m.body, char(10)) FROM {message} m
     WHERE m.ticket_id = t.id AND NOT m.visible_to_user),
    (SELECT u.username || ' ' || u.email || ' ' || u.first_name || ' ' || u.last_name
     FROM {user} u WHERE u.id = t.requester_id)
FROM {ticket} t WHERE t.id IN ({ids})""",
)

# (name, table, event, condition, ids of the tickets to index again); a deleted ticket's
# ids select no ticket, so its row is deleted and nothing put back.
_SQLITE_TRIGGERS = [
    ("search_ticket_inserted", "ticket", "AFTER INSERT", "", "NEW.id"),
    (
        "search_ticket_updated",
        "ticket",
        "AFTER UPDATE",
        "WHEN OLD.subject IS NOT NEW.subject OR OLD.requester_id IS NOT NEW.requester_id",
        "NEW.id",
    ),
    ("search_ticket_deleted", "ticket", "AFTER DELETE", "", "OLD.id"),
    ("search_message_inserted", "message", "AFTER INSERT", "", "NEW.ticket_id"),
    (
        "search_message_updated",
        "message",
        "AFTER UPDATE",
        "WHEN OLD.body IS NOT NEW.body "
        "OR OLD.visible_to_user IS NOT NEW.visible_to_user "
        "OR OLD.ticket_id IS NOT NEW.ticket_id",
        "OLD.ticket_id, NEW.ticket_id",
    ),
    ("search_message_deleted", "message", "AFTER DELETE", "", "OLD.ticket_id"),
    (
        "search_requester_updated",
        "user",
        "AFTER UPDATE",
        "WHEN OLD.username IS NOT NEW.username OR OLD.email IS NOT NEW.email "
        "OR OLD.first_name IS NOT NEW.first_name OR OLD.last_name IS NOT NEW.last_name",
        "SELECT id FROM {ticket} WHERE requester_id = NEW.id",
    ),
]


def _sqlite_index(ids: str) -> list[str]:
    tables = _tables()
    return [statement.format(ids=ids.format(**tables), **tables) for statement in _SQLITE_INDEX]


def _sqlite_triggers() -> list[str]:
    tables = _tables()
    return [
        f"CREATE TRIGGER IF NOT EXISTS {name} {event} ON {tables[table]} {condition} "
        f"BEGIN {'; '.join(_sqlite_index(ids))}; END"
        for name, table, event, condition, ids in _SQLITE_TRIGGERS
    ]


def _sqlite_rebuild() -> list[str]:
    tables = _tables()
    return [
        f"DELETE FROM {FTS_TABLE}",
        _sqlite_index(f"SELECT id FROM {tables['ticket']}")[1],
        # One b-tree instead of the many segments a bulk insert leaves: faster queries.
        f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('optimize')",
    ]


# --- PostgreSQL: a tsvector per ticket, GIN-indexed ------------------------------------------

_PG_TABLE = """
CREATE TABLE IF NOT EXISTS {document} (
    ticket_id bigint PRIMARY KEY,
    document tsvector NOT NULL
);
CREATE INDEX IF NOT EXISTS search_ticketdocument_gin ON {document} USING gin (document);
"""

# Weights mark the parts: A subject, B visible messages, C hidden ones, D the requester; a
# requester's search asks for A and B only.
_PG_FUNCTIONS = """
CREATE OR REPLACE FUNCTION search_words(text) RETURNS text
IMMUTABLE LANGUAGE sql AS $$ SELECT translate($1, {punctuation}, {spaces}) $$;

CREATE OR REPLACE FUNCTION search_ticket_document(ticket bigint) RETURNS tsvector
STABLE LANGUAGE sql AS $$
    SELECT setweight(to_tsvector('simple', search_words(t.subject)), 'A')
        || setweight(to_tsvector('simple', search_words(left(coalesce(
            (SELECT string_agg(m.body, ' ') FROM {message} m
             WHERE m.ticket_id = t.id AND m.visible_to_user), ''), {max_chars}))), 'B')
        || setweight(to_tsvector('simple', search_words(left(coalesce(
            (SELECT string_agg(m.body, ' ') FROM {message} m
             WHERE m.ticket_id = t.id AND NOT m.visible_to_user), ''), {max_chars}))), 'C')
        || setweight(to_tsvector('simple', search_words(concat_ws(' ',
            u.username, u.email, u.first_name, u.last_name))), 'D')
    FROM {ticket} t JOIN {user} u ON u.id = t.requester_id
    WHERE t.id = ticket
$$;

CREATE OR REPLACE FUNCTION search_index_tickets(ids bigint[]) RETURNS void
VOLATILE LANGUAGE sql AS $$
    DELETE FROM {document} d WHERE d.ticket_id = ANY(ids)
        AND NOT EXISTS (SELECT 1 FROM {ticket} t WHERE t.id = d.ticket_id);
    INSERT INTO {document} (ticket_id, document)
    SELECT t.id, search_ticket_document(t.id) FROM {ticket} t WHERE t.id = ANY(ids)
    ON CONFLICT (ticket_id) DO UPDATE SET document = EXCLUDED.document;
$$;

-- The conditions live in the functions, not in WHEN clauses or UPDATE OF lists: those
-- would tie the columns to the triggers, and PostgreSQL would refuse a later migration
-- that changes a column's type (a longer subject).
CREATE OR REPLACE FUNCTION search_ticket_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        DELETE FROM {document} WHERE ticket_id = OLD.id;
    ELSIF TG_OP = 'INSERT' OR NEW.subject IS DISTINCT FROM OLD.subject
            OR NEW.requester_id IS DISTINCT FROM OLD.requester_id THEN
        PERFORM search_index_tickets(ARRAY[NEW.id]);
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION search_message_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM search_index_tickets(ARRAY[NEW.ticket_id]);
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM search_index_tickets(ARRAY[OLD.ticket_id]);
    ELSIF NEW.body IS DISTINCT FROM OLD.body
            OR NEW.visible_to_user IS DISTINCT FROM OLD.visible_to_user
            OR NEW.ticket_id IS DISTINCT FROM OLD.ticket_id THEN
        PERFORM search_index_tickets(ARRAY[OLD.ticket_id, NEW.ticket_id]);
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION search_requester_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.username IS DISTINCT FROM OLD.username OR NEW.email IS DISTINCT FROM OLD.email
            OR NEW.first_name IS DISTINCT FROM OLD.first_name
            OR NEW.last_name IS DISTINCT FROM OLD.last_name THEN
        PERFORM search_index_tickets(
            ARRAY(SELECT id FROM {ticket} WHERE requester_id = NEW.id));
    END IF;
    RETURN NULL;
END $$;

-- Django's test flush empties the tables with TRUNCATE, which fires no row trigger.
CREATE OR REPLACE FUNCTION search_tickets_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE {document};
    RETURN NULL;
END $$;
"""

# (name, table, events, function)
_PG_TRIGGERS = [
    ("search_ticket_changed", "ticket", "AFTER INSERT OR UPDATE OR DELETE", "FOR EACH ROW"),
    ("search_message_changed", "message", "AFTER INSERT OR UPDATE OR DELETE", "FOR EACH ROW"),
    ("search_requester_changed", "user", "AFTER UPDATE", "FOR EACH ROW"),
    ("search_tickets_truncated", "ticket", "AFTER TRUNCATE", "FOR EACH STATEMENT"),
]
TRIGGER_NAMES = {
    "sqlite": [name for name, *_ in _SQLITE_TRIGGERS],
    "postgresql": [name for name, *_ in _PG_TRIGGERS],
}


def _pg_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _pg_functions() -> str:
    return _PG_FUNCTIONS.format(
        punctuation=_pg_literal(_PG_PUNCTUATION),
        spaces=_pg_literal(" " * len(_PG_PUNCTUATION)),
        max_chars=PG_MAX_PART_CHARS,
        **_tables(),
    )


def _pg_triggers() -> list[str]:
    tables = _tables()
    statements = [_pg_functions()]
    for name, table, events, level in _PG_TRIGGERS:
        statements.append(f"DROP TRIGGER IF EXISTS {name} ON {tables[table]}")
        statements.append(
            f"CREATE TRIGGER {name} {events} ON {tables[table]} {level} EXECUTE FUNCTION {name}()"
        )
    return statements


def _pg_rebuild() -> list[str]:
    tables = _tables()
    return [
        f"TRUNCATE {DOCUMENT_TABLE}",
        f"INSERT INTO {DOCUMENT_TABLE} (ticket_id, document) "
        f"SELECT t.id, search_ticket_document(t.id) FROM {tables['ticket']} t",
        f"ANALYZE {DOCUMENT_TABLE}",
    ]


# --- what the migration, the command and post_migrate call -------------------------------


def _run(connection: BaseDatabaseWrapper, statements: list[str]) -> None:
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def _unsupported(connection: BaseDatabaseWrapper) -> NotImplementedError:
    return NotImplementedError(
        f"Ticket search supports SQLite and PostgreSQL, not {connection.vendor}"
    )


def create_index(connection: BaseDatabaseWrapper) -> None:
    """Create the index table, filled from the tickets there are. Its triggers come at the
    end of the migrate (ensure_index), after any table rebuild of later migrations."""
    if connection.vendor == "sqlite":
        tables = _tables()
        _run(connection, [sql.format(weights=FTS_WEIGHTS, **tables) for sql in _SQLITE_TABLE])
    elif connection.vendor == "postgresql":
        _run(connection, [_PG_TABLE.format(**_tables()), _pg_functions()])
    else:
        raise _unsupported(connection)
    rebuild(connection)


def drop_index(connection: BaseDatabaseWrapper) -> None:
    drop_triggers(connection)
    if connection.vendor == "sqlite":
        _run(connection, [f"DROP TABLE IF EXISTS {FTS_TABLE}"])
    else:
        functions = [f"{name}()" for name in TRIGGER_NAMES["postgresql"]] + [
            "search_index_tickets(bigint[])",
            "search_ticket_document(bigint)",
            "search_words(text)",
        ]
        _run(
            connection,
            [
                f"DROP FUNCTION IF EXISTS {', '.join(functions)}",
                f"DROP TABLE IF EXISTS {DOCUMENT_TABLE}",
            ],
        )


def drop_triggers(connection: BaseDatabaseWrapper) -> None:
    tables = _tables()
    if connection.vendor == "sqlite":
        _run(connection, [f"DROP TRIGGER IF EXISTS {name}" for name in TRIGGER_NAMES["sqlite"]])
    elif connection.vendor == "postgresql":
        drops = [
            f"DROP TRIGGER IF EXISTS {name} ON {tables[table]}" for name, table, *_ in _PG_TRIGGERS
        ]
        _run(connection, drops)
    else:
        raise _unsupported(connection)


def install_triggers(connection: BaseDatabaseWrapper) -> None:
    if connection.vendor == "sqlite":
        _run(connection, _sqlite_triggers())
    elif connection.vendor == "postgresql":
        _run(connection, _pg_triggers())
    else:
        raise _unsupported(connection)


def rebuild(connection: BaseDatabaseWrapper) -> None:
    """Every ticket's document again, from scratch, in one transaction."""
    if connection.vendor == "sqlite":
        _run(connection, _sqlite_rebuild())
    elif connection.vendor == "postgresql":
        _run(connection, _pg_rebuild())
    else:
        raise _unsupported(connection)


def missing_triggers(connection: BaseDatabaseWrapper) -> list[str]:
    """The index's triggers the database lacks ([] also where there is no index yet)."""
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        if connection.vendor == "sqlite" and FTS_TABLE in tables:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        elif connection.vendor == "postgresql" and DOCUMENT_TABLE in tables:
            cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        else:
            return []
        present = {name for (name,) in cursor.fetchall()}
    return [name for name in TRIGGER_NAMES[connection.vendor] if name not in present]


def ensure_index(connection: BaseDatabaseWrapper) -> bool:
    """Put back triggers a migration dropped (SQLite rebuilds tables to alter them) and
    rebuild the index, which may have missed writes meanwhile. True if it had to."""
    if not missing_triggers(connection):
        return False
    install_triggers(connection)
    rebuild(connection)
    return True
