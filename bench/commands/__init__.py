"""One module per group of `linreg-bench` commands; each registers its own parsers."""
