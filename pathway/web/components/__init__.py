"""Widgets every page shares: the filter bar, figure cards, tables, charts and messages in words."""
