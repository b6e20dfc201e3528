"""The science of collectors: what a data stream reads when, and how its rows become
metrics. Pure: nothing else of augury, no I/O, no clock (``now`` is passed in).

- :mod:`.schedule`  polling intervals, history ranges, buckets, watermarks
- :mod:`.timeparse` time column values as UTC epoch seconds (epoch, ISO, Java patterns)
- :mod:`.schema`    a stream schema (metric and dimension columns, transforms,
  filters, missing dimensions, the time column) checked and parsed
- :mod:`.mapping`   a schema applied to rows: points in augury's metric shape
- :mod:`.sqlguard`  a user's SQL checked to be one read-only statement
"""
