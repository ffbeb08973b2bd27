"""`make bench`: the load benchmark (tools/bench/run.py), its bare baseline and its report."""
