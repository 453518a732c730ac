"""The dashboard's shared view cache (pathway.web.view_cache): kept per view, query and data
version, never on a clock, dropped least recently used first; large tables' rows kept for download."""

from __future__ import annotations

import pandas as pd
from dash import html

from pathway.web.components import figure_card
from pathway.web.view_cache import ViewCache, cached_layout


def test_a_view_is_kept_for_its_data_version_only(tmp_path):
    cache = ViewCache(tmp_path / "views")
    cache.put("overview?area=A", "load 3", b'{"n": 1}')
    assert cache.get("overview?area=A", "load 3") == {"n": 1}
    # another worker (a new ViewCache on the same folder) finds it too
    assert ViewCache(tmp_path / "views").get("overview?area=A", "load 3") == {"n": 1}
    assert ViewCache(tmp_path / "views").get("overview?area=A", "load 4") is None
    # writing a view of a newer version drops the older version's views
    cache.put("coverage", "load 4", b'{"n": 2}')
    assert ViewCache(tmp_path / "views").get("overview?area=A", "load 3") is None


def test_the_least_recently_used_view_goes_first_past_the_size_limit(tmp_path):
    writer = ViewCache(tmp_path / "views", max_bytes=350)
    for name in ("a", "b", "c"):
        writer.put(name, "v1", b"[" + b"1," * 49 + b"1]")   # 100 bytes each
    # a is used again by another worker, so b is now the least recently used
    assert ViewCache(tmp_path / "views").get("a", "v1") is not None
    writer.put("d", "v1", b"[" + b"1," * 49 + b"1]")
    reader = ViewCache(tmp_path / "views")
    assert [reader.get(n, "v1") is not None for n in ("a", "b", "c", "d")] == [True, False, True, True]


def test_a_layout_is_rendered_once_per_query_and_data_version(tmp_path):
    cache = ViewCache(tmp_path / "views")
    version = {"now": "v1"}
    renders = []

    def layout(**query):
        renders.append(query)
        return html.Div(f"area {query.get('area')}", id="x")

    kept = cached_layout("/", layout, lambda: cache, lambda: version["now"], lambda: False)
    first = kept(area="A")
    again = kept(area="A")
    assert renders == [{"area": "A"}]
    assert again == {"props": {"children": "area A", "id": "x"}, "type": "Div",
                     "namespace": "dash_html_components"}
    assert first.children == "area A"
    kept(area="B")
    version["now"] = "v2"
    kept(area="A")
    assert renders == [{"area": "A"}, {"area": "B"}, {"area": "A"}]


def test_a_layout_with_a_failed_figure_and_the_data_page_are_never_kept(tmp_path):
    cache = ViewCache(tmp_path / "views")
    renders = []

    def layout(**query):
        renders.append(query)
        return html.Div("x")

    failing = cached_layout("/", layout, lambda: cache, lambda: "v1", lambda: True)
    failing(area="A")
    failing(area="A")
    data_page = cached_layout("/data", layout, lambda: cache, lambda: "v1", lambda: False)
    assert data_page is layout
    assert len(renders) == 2


def test_a_long_table_is_downloaded_from_rows_kept_on_the_server(tmp_path, monkeypatch):
    cache = ViewCache(tmp_path / "views")
    monkeypatch.setattr(figure_card, "view_cache", lambda: cache)
    long_table = pd.DataFrame({"area_code": [f"A{i:03d}" for i in range(201)], "people": range(201)})
    stored = figure_card.download_data(long_table)
    assert set(stored) == {"columns", "rows_key"}
    download = figure_card.card_download("csv", "gaps", stored)
    text = download["content"]
    import base64
    lines = base64.b64decode(text).decode("utf-8-sig").splitlines()
    assert len(lines) == 202 and lines[-1] == "A200,200"
    short_table = long_table.head(200)
    assert len(figure_card.download_data(short_table)["rows"]) == 200


def test_a_view_fetches_at_once_what_it_fetched_last_time_for_the_same_kind_of_area(tmp_path):
    cache = ViewCache(tmp_path / "views")
    noted, prefetched = [], []

    def layout(**query):
        area = query.get("area", "all")
        noted.append(["births", {"area": area, "from": query.get("from")}])
        if area != "all":
            noted.append(["births", {"area": "all", "from": query.get("from")}])
        return html.Div("x")

    fetches = (noted.clear, lambda: list(noted), prefetched.append)
    kept = cached_layout("/", layout, lambda: cache, lambda: "v1", lambda: False, fetches)
    kept(area="A", **{"from": "2023-01-01"})
    assert prefetched == []
    kept(area="B", **{"from": "2023-02-01"})
    assert prefetched == [[["births", {"area": "B", "from": "2023-02-01"}],
                           ["births", {"area": "all", "from": "2023-02-01"}]]]
    # an all-areas view has its own recipe
    kept(**{"from": "2023-03-01"})
    assert len(prefetched) == 1


def test_serving_first_renders_every_view_for_all_areas_every_icb_and_every_area(tmp_path, monkeypatch):
    import sqlite3

    import dash

    from metric_fixtures import build_warehouse
    from pathway.web import server
    from pathway.web import warehouse as web_data

    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    build_warehouse(url).dispose()
    monkeypatch.setenv("PATHWAY_VIEW_CACHE", str(tmp_path / "views"))
    server.create_app(url, read_only=True)
    try:
        views = [p for p in dash.page_registry.values() if hasattr(p["layout"], "__wrapped__")]
        rendered, _ = server.warm_views(600)
        # the fixture has 3 areas in 2 ICBs: all areas, 2 ICBs and 3 areas for every view but Data
        assert len(views) == len(dash.page_registry) - 1
        assert rendered == len(views) * (1 + 2 + 3)
        kept = sqlite3.connect(tmp_path / "views" / "views.sqlite").execute("select count(*) from views")
        assert kept.fetchone()[0] == rendered
        # the next start finds them all kept for this data version, and renders none
        assert server.warm_views(600)[0] == 0
    finally:
        web_data.configure(None)
