"""Server-creation latency: how fast a payment becomes a server, where the time goes, how it
scales with history, and whether a change made it slower.

Layers (core only: returns typed results, never prints):

- ``stats``, ``server_timing`` — percentiles from raw timings, ``Server-Timing`` parsing;
- ``capture``, ``floor``, ``explain`` — the SQL a verification issues (SQLAlchemy events), its
  replay on one raw psycopg connection (the floor), EXPLAIN of each statement;
- ``history`` — bulk loading with COPY; ``targets`` — the system in process or over HTTP;
- ``workload`` — what a project supplies (prepare, verify, load history), ``measure`` — timing
  loops, ``suite`` — the whole bench, ``verdict`` — metrics, goals and findings,
  ``baseline`` — compare with a committed baseline, ``gate`` — the quick bench of
  ``harness run``.
"""
