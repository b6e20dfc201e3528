"""HTTP routes of alerting, one module per resource; :mod:`augury.alerts.router` joins
them into the one router the app includes, in the order that keeps fixed paths
(``/alerts/triggered``) ahead of the ids that would match them."""
