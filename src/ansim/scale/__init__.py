"""Scale-out ping aggregation: distinct devices per H3 cell and period, in-process or on Dask.

- :mod:`ansim.scale.aggregate`: the pure functions (pseudonymise, cell, period, merge, count, suppress).
- :mod:`ansim.scale.runners`: the ``local`` (streaming) and ``dask`` (distributed) engines.
- :mod:`ansim.scale.generate`: synthetic Seoul pings for tests and benchmarks.
"""
