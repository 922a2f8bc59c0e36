"""Chinese search that works on Sphinx 9.0.

Sphinx 9.0 ends the Chinese ``language_data.js`` with
``window.Stemmer = ChineseStemmer;``, a class that does not exist: the Chinese
search stems Latin words with the English stemmer and ships only that one.  The
page then stops at "searching" with a ReferenceError (sphinx-doc/sphinx#14229).
Sphinx names the class after ``language_name``, so this subclass says
"English" there and the search page finds ``EnglishStemmer``.  Words are still
split by jieba, as in Sphinx's own Chinese search; the fixed Sphinx releases
need a newer Python than the project supports.
"""

from __future__ import annotations

from typing import Any

from sphinx.application import Sphinx
from sphinx.search.zh import SearchChinese


class ChineseSearchWithEnglishStemmer(SearchChinese):
    language_name = "English"


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_search_language(ChineseSearchWithEnglishStemmer)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
