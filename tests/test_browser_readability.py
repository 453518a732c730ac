"""Every view read as a commissioner reads it, in real headless Chromium on the county demo, one test
per rule of issue 14: no code identifier in the visible text, thousands separators on counts, no plot
squeezed under a minimum height, every chart's legend entries told apart by colour and pattern (or
line and marker), the births period and data cut-off in every view's heading, and at 400 px nothing
wider than the screen (tables scroll inside their card, charts stack). Tests wait for text; none sleeps.
"""

from __future__ import annotations

import re

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from pathway import catalogue

# Every view that shows figures (the Data page lists the extract's own column names, on purpose).
NOT_FIGURES = {"/data"}
AREA = "X60000001"  # Northmoor, in the county demo
WAIT = 60
MIN_PLOT_HEIGHT = 150  # px of plotting area, legend and axis labels excluded

# Names from the code: catalogue metrics and their columns (those a person could mistake for words
# are left out: area, stage, tier ...), the flags, the equity dimensions and every rf_ flag.
_FLAGS = ("below_benchmark", "no_service", "no_cohort", "imd_quintile", "ethnic_group", "age_band",
          "risk_factor", "contact_windows", "phe_funnels")
IDENTIFIERS = sorted({name for metric in catalogue.METRICS.values()
                      for name in (metric.name, *metric.output_columns) if "_" in name} | set(_FLAGS))
RF_CODE = re.compile(r"\brf_[a-z_]+")
# A whole number of 4 or more digits written without separators; years (1900-2099) are allowed.
BARE_COUNT = re.compile(r"(?<![\d,.\-/:£A-Za-z])(\d{4,})(?![\d,.\-/:%])")
PERIOD = re.compile(r"births from \d{1,2} [A-Z][a-z]+ \d{4} to \d{1,2} [A-Z][a-z]+ \d{4}; "
                    r"data up to \d{1,2} [A-Z][a-z]+ \d{4} \(the cut-off\)")

PLOTS = """
return Array.from(document.querySelectorAll('.js-plotly-plot')).map(g => {
  const size = g._fullLayout && g._fullLayout._size;
  const card = g.closest('section');
  const legend = (g._fullData || []).filter(t => t.showlegend !== false && t.visible !== false
      && (g._fullLayout.showlegend !== false)).map(t => JSON.stringify([
        (t.marker && !Array.isArray(t.marker.color) ? t.marker.color : null) || (t.line && t.line.color) || null,
        (t.marker && t.marker.pattern && t.marker.pattern.shape) || '',
        (t.line && t.line.dash) || '', (t.marker && t.marker.symbol) || '', t.mode || t.type]));
  return {card: card ? card.id : '', height: size ? size.h : 0, legend: legend,
          names: (g._fullData || []).filter(t => t.showlegend !== false).map(t => t.name)};
});
"""


@pytest.fixture(scope="module")
def county_warehouse(tmp_path_factory):
    from pathway.db import Warehouse
    from pathway.demo import build_demo

    warehouse = Warehouse(f"duckdb:///{tmp_path_factory.mktemp('county') / 'county.duckdb'}")
    warehouse.ensure_schema()
    build_demo(warehouse, seed=2024, scale="county")
    yield warehouse
    warehouse.dispose()


@pytest.fixture
def county(dash_duo, county_warehouse):
    from pathway.web.server import create_app

    dash_duo.start_server(create_app(warehouse=county_warehouse, open_access=True))
    return dash_duo


def views() -> dict[str, str]:
    """Every registered page but the Data page: path -> name (its heading). New pages join by themselves."""
    import dash

    return {page["path"]: page["name"] for page in dash.page_registry.values() if page["path"] not in NOT_FIGURES}


def _wait(duo, condition, message):
    return WebDriverWait(duo.driver, WAIT, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda driver: condition(driver), message)


def _open(duo, path: str, heading: str) -> str:
    """The view's visible text once its heading, period line and every chart are drawn."""
    duo.driver.get(duo.server_url + path)
    duo.wait_for_text_to_equal("h1", heading, timeout=WAIT)  # a page's heading is its name in the navigation
    _wait(duo, lambda d: d.find_element(By.CSS_SELECTOR, ".pathway-page-body").text.strip(), f"{path} is empty")
    _wait(duo, lambda d: not d.find_elements(By.CSS_SELECTOR, "[data-dash-is-loading='true']"),
          f"{path} is still loading")
    _wait(duo, lambda d: all(d.execute_script("return !!(arguments[0]._fullLayout)", g)
                             for g in d.find_elements(By.CSS_SELECTOR, ".js-plotly-plot")),
          f"{path}: a chart was not drawn")
    return duo.driver.find_element(By.TAG_NAME, "body").text


@pytest.mark.parametrize("area", ["all", AREA])
def test_every_view_reads_in_words_with_separators_dates_and_distinct_legends(county, area):
    county.driver.set_window_size(1440, 1000)
    problems = []
    found = views()
    assert {"/", "/coverage", "/map", "/compare", "/trends"} <= set(found)
    for path, heading in found.items():
        text = _open(county, f"{path}?area={area}" if area != "all" else path, heading)
        # 1. The births period and the data cut-off, as dates, under every view's heading.
        period = county.driver.find_element(By.ID, "page-period").text
        if not PERIOD.search(period):
            problems.append(f"{path}: the heading says {period!r}, not the period and the cut-off as dates")
        # 2. No name from the code in what a person reads.
        for name in IDENTIFIERS:
            if re.search(rf"\b{re.escape(name)}\b", text):
                problems.append(f"{path}: shows the code name {name!r}")
        problems += [f"{path}: shows the risk-factor code {code!r}" for code in set(RF_CODE.findall(text))]
        # 3. Counts of 1,000 or more with thousands separators (years excepted).
        bare = [n for n in BARE_COUNT.findall(text) if not 1900 <= int(n) <= 2099]
        if bare:
            problems.append(f"{path}: numbers without thousands separators {sorted(set(bare))[:5]}")
        for plot in county.driver.execute_script(PLOTS):
            # 4. No plot squeezed: the plotting area itself at least MIN_PLOT_HEIGHT px tall.
            if plot["height"] < MIN_PLOT_HEIGHT:
                problems.append(f"{path} {plot['card']}: plot area only {plot['height']:.0f} px tall")
            # 5. Every legend entry drawn differently from the others (colour, pattern, dash, symbol).
            if len(set(plot["legend"])) < len(plot["legend"]):
                problems.append(f"{path} {plot['card']}: legend entries drawn alike among {plot['names']}")
    assert problems == [], "\n".join(problems)
    assert county.get_logs() == []


# Axis labels a person cannot read whole: cut off at the chart's edge, or drawn under its legend
# (Plotly turns category names to fit a phone, and turned names ran under a legend below the plot).
CUT_LABELS = """
return Array.from(document.querySelectorAll('.js-plotly-plot')).flatMap(g => {
  const chart = g.querySelector('.main-svg').getBoundingClientRect();
  const legend = g.querySelector('.legend');
  const key = legend ? legend.getBoundingClientRect() : null;
  const card = (g.closest('section') || {}).id || '';
  return Array.from(g.querySelectorAll('.xtick text, .ytick text')).map(t => {
    const r = t.getBoundingClientRect();
    if (!r.width) return null;
    const cut = r.left < chart.left - 1 || r.right > chart.right + 1 || r.top < chart.top - 1
        || r.bottom > chart.bottom + 1;
    const under = key && key.width > 0 && r.left < key.right && r.right > key.left
        && r.top < key.bottom && r.bottom > key.top;
    return cut || under ? card + ": '" + t.textContent + "' " + (cut ? 'cut off' : 'under the legend') : null;
  }).filter(x => x);
});
"""


def test_at_400_px_tables_scroll_inside_their_cards_and_nothing_is_wider_than_the_screen(county):
    county.driver.set_window_size(400, 900)
    wider, unreadable = {}, []
    for path, heading in views().items():
        _open(county, f"{path}?area={AREA}", heading)
        unreadable += [f"{path} {label}" for label in county.driver.execute_script(CUT_LABELS)]
        # Plotly's toolbar would sit on the first row of a legend above the plot: hidden on a phone.
        toolbars = county.driver.execute_script(
            "return Array.from(document.querySelectorAll('.modebar-container'))"
            ".filter(m => getComputedStyle(m).display !== 'none').length")
        if toolbars:
            unreadable.append(f"{path}: {toolbars} chart toolbars shown at 400 px")
        # Open every 'show the figures as a table', so the widest content is on the page.
        county.driver.execute_script("document.querySelectorAll('details').forEach(d => d.open = true)")
        overflow = county.driver.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
        if overflow > 0:
            wider[path] = overflow
    assert wider == {}, f"views wider than a 400 px screen (px too wide): {wider}"
    assert unreadable == [], "\n".join(unreadable)
    assert county.get_logs() == []
