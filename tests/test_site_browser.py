"""The built site in a real browser: headless Chromium driven by selenium.

What only a browser shows: the search pages run their scripts and list results
(in Chinese too), no page raises a JavaScript error, the language switch can
be seen and followed at desktop and phone width, and a wide table can be
scrolled sideways on a phone.  The site is served over HTTP from a local
server, as a reader's browser would get it.

Debian's ``chromium`` and ``chromium-driver`` are used (``bash scripts/dev``
installs them).  Under ``CI=true`` a browser that cannot start fails the run;
elsewhere these tests are skipped then.
"""

from __future__ import annotations

import functools
import http.server
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import serving
from tests.docs_site import built_site, in_ci

pytestmark = [pytest.mark.docs, pytest.mark.browser]

LANGUAGES = ("en", "zh_CN")
DESKTOP, PHONE = 1280, 390
SEARCHES = {"en": "login", "zh_CN": "登录"}
CHROMIUM = ("chromium", "chromium-browser")
CHROMEDRIVER = ("chromedriver",)


def _unavailable(reason: str) -> None:
    if in_ci():
        pytest.fail(f"the browser tests cannot run: {reason}", pytrace=False)
    pytest.skip(reason)


def _which(names: tuple[str, ...]) -> str | None:
    return next((found for name in names if (found := shutil.which(name))), None)


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return built_site(tmp_path_factory)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="session")
def base_url(site: Path) -> Iterator[str]:
    """The site served over HTTP on a free loopback port."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    with serving(http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)) as port:
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _unavailable("selenium is not installed (the tests dependency group)")
    binary, driver_path = _which(CHROMIUM), _which(CHROMEDRIVER)
    if binary is None or driver_path is None:
        _unavailable("chromium and chromium-driver are not installed")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    try:
        driver = webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
    except Exception as error:  # any start-up failure means "no browser here"
        _unavailable(f"headless chromium did not start: {' '.join(str(error).split())[:300]}")
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def _viewport(driver, width: int) -> None:
    """Make the page ``width`` CSS pixels wide, as a phone (or a desktop) would."""
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 800},
    )


def _load(driver, url: str) -> list[str]:
    """Open ``url``; the page's errors from the browser console."""
    driver.get_log("browser")  # drop what earlier pages left
    driver.get(url)
    driver.execute_script("return document.readyState")
    return [
        entry["message"]
        for entry in driver.get_log("browser")
        if entry["level"] == "SEVERE" and "favicon.ico" not in entry["message"]
    ]


def _pages(site: Path, language: str) -> list[str]:
    return sorted(path.name for path in (site / language).glob("*.html"))


def _wait(driver, script: str, timeout: float = 20) -> object:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(lambda d: d.execute_script(script))


# -- the tests ---------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_page_raises_a_javascript_error(
    browser, base_url: str, site: Path, language: str
) -> None:
    _viewport(browser, DESKTOP)
    pages = _pages(site, language)
    assert len(pages) >= 10
    for page in pages:
        errors = _load(browser, f"{base_url}/{language}/{page}")
        assert not errors, f"{language}/{page}: {errors}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_search_lists_results(browser, base_url: str, language: str) -> None:
    from urllib.parse import quote

    _viewport(browser, DESKTOP)
    word = SEARCHES[language]
    errors = _load(browser, f"{base_url}/{language}/search.html?q={quote(word)}")
    assert not errors, errors
    found = _wait(
        browser,
        "var items = document.querySelectorAll('#search-results li');"
        "return items.length ? items.length : null;",
    )
    assert found >= 1, f"{language}: searching {word!r} lists nothing"
    titles = browser.execute_script(
        "return Array.from(document.querySelectorAll('#search-results li a'))"
        ".map(a => a.textContent).join(' | ');"
    )
    assert titles, f"{language}: the results have no titles"


def _top_results(browser, base_url: str, language: str, query: str, count: int = 4) -> list:
    from urllib.parse import quote

    errors = _load(browser, f"{base_url}/{language}/search.html?q={quote(query)}")
    assert not errors, errors
    _wait(browser, f"return document.querySelectorAll('#search-results li').length >= {count};")
    return browser.execute_script(
        "return Array.from(document.querySelectorAll('#search-results li a'))"
        f".slice(0, {count}).map(a => a.getAttribute('href'));"
    )


def test_searching_login_lists_the_task_and_the_guide_first(browser, base_url: str) -> None:
    """The API page once documented every module, and three of its objects
    (``ecr_tasks.login`` and two ``login`` functions) ranked above the guide.
    It documents the public names only now, none of which is about logging in."""
    _viewport(browser, DESKTOP)
    top = _top_results(browser, base_url, "en", "login")
    assert not [href for href in top if href.startswith("api.html")], top
    assert "reference.html#task-login" in top and "guide.html" in top, top


@pytest.mark.parametrize("query", ["login", SEARCHES["zh_CN"]])
def test_chinese_search_for_login_lists_the_guide_before_any_api_object(
    browser, base_url: str, query: str
) -> None:
    _viewport(browser, DESKTOP)
    top = _top_results(browser, base_url, "zh_CN", query)
    assert not [href for href in top if href.startswith("api.html")], top
    assert "guide.html" in top, top


@pytest.mark.parametrize("width", [DESKTOP, PHONE])
@pytest.mark.parametrize(("language", "other"), [("en", "zh_CN"), ("zh_CN", "en")])
def test_language_switch_on_the_search_page_keeps_the_query(
    browser, base_url: str, language: str, other: str, width: int
) -> None:
    """Following the switch from ``en/search.html?q=login`` once led to an
    empty ``zh_CN/search.html``: the reader had to type the query again."""
    from urllib.parse import quote, unquote

    _viewport(browser, width)
    query = SEARCHES[other]
    _load(browser, f"{base_url}/{language}/search.html?q={quote(query)}")
    href = browser.execute_script(
        "return document.querySelector('a.ecr-language-link').getAttribute('href');"
    )
    assert unquote(href).endswith(f"/{other}/search.html?q={query}"), href
    browser.execute_script("document.querySelector('a.ecr-language-link').click();")
    _wait(browser, f"return location.pathname.endsWith('/{other}/search.html');")
    assert unquote(browser.execute_script("return location.search;")) == f"?q={query}"
    found = _wait(
        browser,
        "var items = document.querySelectorAll('#search-results li');"
        "return items.length ? items.length : null;",
    )
    assert found >= 1, f"{other}: the carried query {query!r} lists nothing"
    assert browser.execute_script("return document.querySelector('#search-results h2') !== null;")


def test_language_switch_elsewhere_carries_no_query(browser, base_url: str) -> None:
    """Only the search page's query goes along; ``?highlight=`` does not."""
    _viewport(browser, DESKTOP)
    _load(browser, f"{base_url}/en/guide.html?highlight=login#the-token-cache")
    href = browser.execute_script(
        "return document.querySelector('a.ecr-language-link').getAttribute('href');"
    )
    assert href.endswith("/zh_CN/guide.html#the-token-cache"), href

@pytest.mark.parametrize(
    "message",
    [
        "no basic auth credentials",
        "Cannot perform an interactive login from a non TTY device",
    ],
)
@pytest.mark.parametrize("language", LANGUAGES)
def test_searching_a_raw_error_message_finds_its_explanation(
    browser, base_url: str, language: str, message: str
) -> None:
    """Docker's own words, pasted into the search box, lead to the page on them."""
    from urllib.parse import quote

    _viewport(browser, DESKTOP)
    errors = _load(browser, f"{base_url}/{language}/search.html?q={quote(message)}")
    assert not errors, errors
    _wait(browser, "return document.querySelectorAll('#search-results li').length >= 1;")
    top = browser.execute_script(
        "return Array.from(document.querySelectorAll('#search-results li a'))"
        ".slice(0, 3).map(a => a.getAttribute('href'));"
    )
    assert any(href.startswith("errors.html") for href in top), (language, message, top)


@pytest.mark.parametrize("width", [DESKTOP, PHONE])
@pytest.mark.parametrize("language", LANGUAGES)
def test_language_switch_is_visible_on_every_page(
    browser, base_url: str, site: Path, language: str, width: int
) -> None:
    _viewport(browser, width)
    for page in _pages(site, language):
        _load(browser, f"{base_url}/{language}/{page}")
        box = browser.execute_script(
            "var a = document.querySelector('a.ecr-language-link');"
            "if (!a) return null;"
            "var r = a.getBoundingClientRect(), s = getComputedStyle(a);"
            "return {left: r.left, right: r.right, top: r.top, bottom: r.bottom,"
            " width: r.width, height: r.height, shown: s.display !== 'none'"
            " && s.visibility !== 'hidden', viewport: window.innerWidth};"
        )
        where = f"{language}/{page} at {width} px"
        assert box is not None, f"{where}: no language switch"
        assert box["viewport"] == width, f"{where}: the viewport is {box['viewport']} px"
        assert box["shown"] and box["width"] > 20 and box["height"] > 10, f"{where}: hidden"
        assert box["left"] >= 0 and box["right"] <= width, f"{where}: off screen {box}"
        assert 0 <= box["top"] < 300, f"{where}: not at the top of the page {box}"


@pytest.mark.parametrize("width", [DESKTOP, PHONE])
def test_language_switch_keeps_the_section(browser, base_url: str, width: int) -> None:
    _viewport(browser, width)
    _load(browser, f"{base_url}/en/guide.html#the-token-cache")
    # Moving to another section afterwards must move the switch along.
    browser.execute_script("window.location.hash = '#where-the-login-is-kept';")
    _wait(
        browser,
        "return document.querySelector('a.ecr-language-link').getAttribute('href')"
        ".endsWith('#where-the-login-is-kept');",
    )
    browser.execute_script("document.querySelector('a.ecr-language-link').click();")
    _wait(browser, "return location.pathname.endsWith('/zh_CN/guide.html');")
    assert browser.execute_script("return location.hash;") == "#where-the-login-is-kept"
    assert browser.execute_script(
        "return document.getElementById('where-the-login-is-kept') !== null;"
    ), "the Chinese page has no section with that id"


@pytest.mark.parametrize("language", LANGUAGES)
def test_comparison_table_scrolls_sideways_on_a_phone(
    browser, base_url: str, language: str
) -> None:
    _viewport(browser, PHONE)
    _load(browser, f"{base_url}/{language}/comparison.html")
    state = browser.execute_script(
        "var table = document.querySelector('table.ecr-comparison');"
        "var box = table.closest('.wy-table-responsive');"
        "var cells = table.querySelectorAll('thead th');"
        "var last = cells[cells.length - 1];"
        "var before = last.getBoundingClientRect().right;"
        "box.scrollIntoView();"
        "box.scrollLeft = box.scrollWidth;"
        "var r = last.getBoundingClientRect();"
        "return {overflow: getComputedStyle(box).overflowX, scrollable:"
        " box.scrollWidth > box.clientWidth, before: before, left: r.left, right: r.right,"
        " cue: getComputedStyle(box).backgroundImage, text: last.textContent.trim(),"
        " viewport: window.innerWidth};"
    )
    assert state["viewport"] == PHONE
    assert state["text"] == "ecr-tasks"
    assert state["overflow"] in ("auto", "scroll"), state
    assert state["scrollable"] and state["before"] > PHONE, "the table fits: nothing to test"
    assert "gradient" in state["cue"], "no shadow shows that the table goes on"
    assert state["left"] >= 0 and state["right"] <= PHONE + 1, f"last column not reached: {state}"


# -- tables ------------------------------------------------------------------------------

_TABLE_PROBLEMS = """
var problems = [];
document.querySelectorAll('.rst-content .wy-table-responsive').forEach(function (box) {
  var heading = box.querySelector('tr').textContent.trim().replace(/\\s+/g, ' ').slice(0, 30);
  if (box.scrollWidth > box.clientWidth + 1) {
    problems.push('table "' + heading + '" is ' + box.scrollWidth + ' px wide in a '
      + box.clientWidth + ' px box');
  }
  box.querySelectorAll('td code.literal, th code.literal').forEach(function (code) {
    var cell = code.closest('td, th').getBoundingClientRect();
    Array.from(code.getClientRects()).forEach(function (r) {
      if (r.right > cell.right + 0.5 || r.left < cell.left - 0.5) {
        problems.push(code.textContent + ' sticks out of its cell by '
          + Math.round(Math.max(r.right - cell.right, cell.left - r.left)) + ' px');
      }
    });
  });
});
return problems;
"""


@pytest.mark.parametrize("language", LANGUAGES)
def test_tables_fit_their_box_on_a_desktop(
    browser, base_url: str, site: Path, language: str
) -> None:
    """At 1280 px no table needs the sideways scroll bar, and no code word
    spills out of its cell. The comparison table was 718 px wide in its 696 px
    box, ``docker-credential-desktop`` spilled over and
    ``docker-credential-ecr-tasks`` was cut; in Chinese, the settings table was
    715 px wide and cut ``public.ecr.aws``."""
    _viewport(browser, DESKTOP)
    checked = []
    for page in _pages(site, language):
        _load(browser, f"{base_url}/{language}/{page}")
        if browser.execute_script("return document.querySelector('.wy-table-responsive');"):
            checked.append(page)
        problems = browser.execute_script(_TABLE_PROBLEMS)
        assert not problems, f"{language}/{page} at {DESKTOP} px: {problems}"
    assert {"comparison.html", "configuration.html", "reference.html"} <= set(checked), checked


@pytest.mark.parametrize("width", [DESKTOP, PHONE])
@pytest.mark.parametrize("language", LANGUAGES)
def test_flag_names_never_break_inside_the_word(
    browser, base_url: str, language: str, width: int
) -> None:
    """On a phone the reference's flag tables once split ``--immutabl|e`` and
    ``--|account``; the tables scroll sideways instead."""
    _viewport(browser, width)
    _load(browser, f"{base_url}/{language}/reference.html")
    words = browser.execute_script(
        "return Array.from(document.querySelectorAll("
        "'table.ecr-flag-table td:first-child span.pre')).map(function (s) {"
        " return {text: s.textContent, lines: s.getClientRects().length}; });"
    )
    flags = [word for word in words if word["text"].startswith("--")]
    assert len(flags) >= 30, words
    broken = [word["text"] for word in flags if word["lines"] != 1]
    assert not broken, f"{language} at {width} px: {broken} break inside the word"


@pytest.mark.parametrize("language", LANGUAGES)
def test_comparison_row_headings_leave_the_room_to_the_columns_on_a_phone(
    browser, base_url: str, language: str
) -> None:
    """The first column once took 181 of the table's 640 px on a phone."""
    _viewport(browser, PHONE)
    _load(browser, f"{base_url}/{language}/comparison.html")
    state = browser.execute_script(
        "var table = document.querySelector('table.ecr-comparison');"
        "var stubs = Array.from(table.querySelectorAll('th.stub'));"
        "return {table: table.getBoundingClientRect().width,"
        " first: table.querySelector('tbody tr').children[0].getBoundingClientRect().width,"
        " spill: stubs.filter(function (th) { return th.scrollWidth > th.clientWidth + 1; })"
        ".map(function (th) { return th.textContent; })};"
    )
    assert state["first"] <= 0.2 * state["table"], state
    assert not state["spill"], f"row headings wider than their column: {state['spill']}"
