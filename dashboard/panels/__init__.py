"""Pages' content from plain values: what each page's callbacks return, tested without a browser."""
