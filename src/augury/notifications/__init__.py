"""Notifications for people when long work finishes (see models.py)."""
