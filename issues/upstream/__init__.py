"""Sending reports and updates on to the city's own 311 system (a GeoReport v2 server):
`client.py` speaks GeoReport v2 and sorts every failure by what it means for a POST,
`payloads.py` turns an issue or an update into the form the city receives, `outbox.py` writes the
rows in the caller's transaction, and `delivery.py` sends them after commit, with retries and the
look-before-posting-again that keeps a report from being created twice upstream.

Hearing back (polling, the inbound push) applies status changes, so it sits above the services:
issues/services/cityupdates.py and issues/open311/.
"""
