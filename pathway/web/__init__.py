"""The commissioners' dashboard: a Dash pages app over the metric catalogue (only aggregates reach the browser)."""
