"""Real parts to test and benchmark against: a throwaway PostgreSQL cluster, MJPEG cameras over HTTP, a fleet of
``vision worker`` processes with faults to inject, and observations to store.

The tests use them (``tests/``), and so does ``scripts/bench_workers.py``; like ``numpy.testing`` they ship with
the package so that both import them by name. Nothing on the serving path imports this package.
"""
