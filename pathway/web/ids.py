"""Every component id the dashboard's callbacks and browser tests refer to, defined once.

Pattern-matching ids are dicts whose "type" is one of the *_TYPE names below.
"""

# ---- the shell (app.py / pathway.web.shell) -----------------------------------------
URL = "url"                          # dcc.Location the filter bar writes the query string to
NAV = "site-navigation"
NAV_LINK_TYPE = "nav-link"           # {"type": NAV_LINK_TYPE, "page": path}
MAIN = "main-content"
SIGNED_IN_AS = "signed-in-as"
SIGN_OUT = "sign-out"

# ---- filter bar (state lives in the URL query string) ---------------------------------
FILTER_TYPE = "filter"               # {"type": FILTER_TYPE, "name": one of filters.FILTER_NAMES}
FILTER_BAR = "filter-bar"
FILTER_RESET = "filter-reset"

# ---- figure cards ---------------------------------------------------------------------
CARD_TYPE = "figure-card"            # {"type": CARD_TYPE, "card": card_id}
CARD_GRAPH_TYPE = "figure-card-graph"
CARD_TABLE_TYPE = "figure-card-table"
CARD_DATA_TYPE = "figure-card-data"  # dcc.Store: the suppressed aggregate rows behind the card
CARD_CSV_TYPE = "figure-card-csv"
CARD_XLSX_TYPE = "figure-card-xlsx"
CARD_DOWNLOAD_TYPE = "figure-card-download"

# ---- the area report (every page) ------------------------------------------------------
REPORT_HTML = "report-download-html"
REPORT_PDF = "report-download-pdf"
REPORT_DOWNLOAD = "report-download"
REPORT_MESSAGE = "report-download-message"

# ---- pages -----------------------------------------------------------------------------
OVERVIEW_GAPS = "overview-largest-gaps"
COVERAGE_FUNNEL_METRIC = "coverage-funnel-metric"

GAPS_SORT = "service-gaps-sort"
GAPS_SHOW = "service-gaps-show"
GAPS_TABLE = "service-gaps-table"

EQUITY_METRIC = "equity-metric"
TRENDS_METRIC = "trends-metric"
MAP_METRIC = "map-metric"
MAP_GRAPH = "map-graph"
MAP_MODE = "map-mode"

ECONOMIC_TARGET = "economic-target-access"
ECONOMIC_EFFECT = "economic-effect-assumption"
ECONOMIC_PRICE_YEAR = "economic-price-year"
ECONOMIC_NEED = "economic-need"
ECONOMIC_RESULTS = "economic-results"
ECONOMIC_ASSUMPTIONS = "economic-assumptions"
ECONOMIC_TARGETED_TARGET = "economic-targeted-target"
ECONOMIC_STORE = "economic-session-assumptions"   # dcc.Store (session): the assumptions a person changed
ECONOMIC_EDIT_TYPE = "economic-edit"              # {"type": ECONOMIC_EDIT_TYPE, "key": assumption key}
ECONOMIC_RESET = "economic-reset-assumptions"

DATA_UPLOAD = "data-upload"
DATA_UPLOAD_TABLE = "data-upload-table"
DATA_UPLOAD_RESULT = "data-upload-result"
DATA_LOAD_LOG = "data-load-log"
DATA_AUDIT_LOG = "data-audit-log"

# Components only a data manager's callbacks may name (pathway.web.access refuses the rest with
# 403): uploads, the load log, quarantined rows, data quality and the audit log.
DATA_MANAGER_ONLY = frozenset({DATA_UPLOAD, DATA_UPLOAD_TABLE, DATA_UPLOAD_RESULT, DATA_LOAD_LOG, DATA_AUDIT_LOG})

COMPARE_METRIC = "compare-areas-indicator"
COMPARE_SORT = "compare-areas-sort"
COMPARE_CARD = "compare-areas-card"
