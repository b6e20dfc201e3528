"""Alerting use cases, one module per resource: configurations (:mod:`.configs`,
:mod:`.preview`), triggered alerts (:mod:`.triggers`), channels and their delivery log
(:mod:`.channels`, :mod:`.deliveries`), alert actions (:mod:`.actions`), routing tables
(:mod:`.routing`), user events (:mod:`.events`), maintenance windows (:mod:`.windows`)
and feedback (:mod:`.feedback`).

Every function filters by the caller's organization, takes typed bodies from
:mod:`augury.alerts.schemas`, and records the changes it makes in the audit log
(:mod:`.auditing`) with the principal who made them.
"""
