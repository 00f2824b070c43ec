"""Documents and how they look: plain text tables fitted to the terminal, Markdown, CSV and JSON.

Commands and library results build a `Document` (or a JSON-ready dict); this package alone decides how it
looks. Money for people has one format everywhere (`usd`); money for machines is an exact decimal string
(`money`).
"""

from costplan.render.document import FORMATS, Document, Mark, Table, render
from costplan.render.values import money, price, to_json, usd

__all__ = ["FORMATS", "Document", "Mark", "Table", "money", "price", "render", "to_json", "usd"]
