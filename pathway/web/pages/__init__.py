"""One module per dashboard page; Dash pages imports each and each registers itself."""
