"""Search over projects: the rows it matches and the query, on each database's own text
index (migration 0006).

``refresh_project`` (or, for a publish, ``replace_project_row``) is called in the same
transaction as whatever changes a registry's files (publish, copy, delete, next to
``bump_serial``), so search never shows a project
that is gone nor misses one just published. Matching: the PEP 503 name by prefix and
substring, the summary and keywords by their words; ranked exact name first, then names
starting with the query, then names containing it, then the rest, each by name.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    case,
    delete,
    func,
    insert,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy.orm import Session

from packyard.db.tables import PackageRow, SearchProjectRow

# A publish's one statement (``replace_project_row``), in the SQL both databases speak. A
# row that already says the same (the second file of a release) is left alone, so neither
# database's text index is rewritten for it.
_UPSERT_ROW = text(
    "INSERT INTO search_projects (registry_id, project, name, version, summary, keywords)"
    " VALUES (:registry_id, :project, :name, :version, :summary, :keywords)"
    " ON CONFLICT (registry_id, project) DO UPDATE SET name = excluded.name,"
    " version = excluded.version, summary = excluded.summary, keywords = excluded.keywords"
    " WHERE search_projects.name <> excluded.name"
    " OR search_projects.version <> excluded.version"
    " OR search_projects.summary <> excluded.summary"
    " OR search_projects.keywords <> excluded.keywords"
)
# The trigram index answers substrings of at least this many characters.
_TRIGRAM = 3
_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True, slots=True)
class SearchHit:
    registry_id: str
    project: str
    name: str
    version: str
    summary: str
    keywords: str


def search_values(
    registry_id: str, project: str, name: str, version: str, metadata: Any
) -> dict[str, str]:
    """The ``search_projects`` row for a project whose newest file has ``metadata`` (the
    ``metadata_json`` column: a dict, or its JSON text as some drivers return it)."""
    fields = json.loads(metadata) if isinstance(metadata, str) else (metadata or {})
    keywords = fields.get("keywords") or []
    return {
        "registry_id": registry_id,
        "project": project,
        "name": name,
        "version": version,
        "summary": str(fields.get("summary") or "")[:2000],
        "keywords": " ".join(str(k) for k in keywords)[:2000],
    }


def refresh_project(session: Session, registry_id: str, project: str) -> None:
    """Make the project's search row match its newest file in the registry, or remove it
    when the registry holds none."""
    refresh_projects(session, registry_id, [project])


def replace_project_row(
    session: Session, registry_id: str, project: str, name: str, version: str, metadata: Any
) -> None:
    """The search row of a project whose newest file is the one just added (a publish:
    it has the highest seq), made from that file's values without a query to find it.
    Publishing runs this for every file, where finding the newest file cost about a fifth
    of the server's CPU per file (issue 20's profile)."""
    session.execute(_UPSERT_ROW, search_values(registry_id, project, name, version, metadata))


def refresh_projects(session: Session, registry_id: str, projects: Collection[str]) -> None:
    """``refresh_project`` for many projects of the registry in three statements (a bulk
    delete or a retention run touches thousands)."""
    if not projects:
        return
    wanted = sorted(projects)
    newest_seq = (
        select(func.max(PackageRow.seq))
        .where(PackageRow.registry_id == registry_id, PackageRow.project.in_(wanted))
        .group_by(PackageRow.project)
    )
    newest = session.execute(
        select(PackageRow.project, PackageRow.name, PackageRow.version, PackageRow.metadata_json)
        .where(PackageRow.registry_id == registry_id, PackageRow.seq.in_(newest_seq))
        .order_by(PackageRow.project)
    ).all()
    session.execute(
        delete(SearchProjectRow).where(
            SearchProjectRow.registry_id == registry_id, SearchProjectRow.project.in_(wanted)
        )
    )
    if newest:
        session.execute(
            insert(SearchProjectRow),
            [search_values(registry_id, *row) for row in newest],
        )


def search(
    session: Session,
    registry_ids: list[str],
    query: str,
    normalized: str,
    *,
    limit: int,
    offset: int,
) -> list[SearchHit]:
    """Up to ``limit`` projects of ``registry_ids`` matching ``query`` (``normalized`` is
    its PEP 503 form), best first, skipping ``offset``."""
    if not registry_ids or not query.strip():
        return []
    term = query.strip().lower()
    rank = case(
        (SearchProjectRow.project == normalized, 0),
        (SearchProjectRow.project.startswith(normalized, autoescape=True), 1),
        (SearchProjectRow.project.contains(normalized, autoescape=True), 2),
        else_=3,
    )
    statement = (
        select(SearchProjectRow)
        .where(SearchProjectRow.registry_id.in_(registry_ids))
        .where(_matching(session, term, normalized))
        .order_by(rank, SearchProjectRow.project, SearchProjectRow.registry_id)
        .limit(limit)
        .offset(offset)
    )
    return [_hit(row) for row in session.scalars(statement)]


def _matching(session: Session, term: str, normalized: str) -> ColumnElement[bool]:
    name = SearchProjectRow.project.contains(normalized, autoescape=True)
    if session.get_bind().dialect.name == "sqlite":
        return _sqlite_matching(term, normalized, name)
    words = _WORD.findall(term)
    if not words:
        return name
    tsquery = " & ".join(f"{word}:*" for word in words)
    # PostgreSQL's generated column, not in the model: SQLite has none.
    document: ColumnElement[Any] = literal_column("search_projects.document")
    return or_(name, document.op("@@")(func.to_tsquery("simple", tsquery)))


def _sqlite_matching(term: str, normalized: str, name: ColumnElement[bool]) -> ColumnElement[bool]:
    phrases = [p for p in {term, normalized} if len(p) >= _TRIGRAM]
    if not phrases:
        # Too short for trigrams: names and summaries by plain substring (a scan).
        return or_(name, SearchProjectRow.summary.contains(term, autoescape=True))
    expression = " OR ".join('"' + p.replace('"', '""') + '"' for p in phrases)
    matched: Select[tuple[int]] = (
        select(text("rowid"))
        .select_from(text("search_fts"))
        .where(text("search_fts MATCH :expression").bindparams(expression=expression))
    )
    return SearchProjectRow.id.in_(matched)


def _hit(row: SearchProjectRow) -> SearchHit:
    return SearchHit(row.registry_id, row.project, row.name, row.version, row.summary, row.keywords)
