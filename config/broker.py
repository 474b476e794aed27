"""The Celery broker's Redis transport, with one fix: a worker survives a broker restart.

When Redis goes away while a worker holds an unacknowledged message and is waiting on BRPOP,
Celery (5.7) handles the lost connection by first collecting it and then closing it:

1. `Connection.collect()` closes the channel. The channel reads the BRPOP reply it is waiting
   for, the read fails on the dead socket, and the exception leaves the channel half closed (not
   yet marked closed, its unacknowledged messages not yet restored). `collect()` swallows the
   error and detaches the transport from the connection (`transport.client = None`).
2. `Connection.close()` closes the channel again. This time it gets as far as restoring the
   unacknowledged messages, which needs a Redis client, whose settings are read from the
   detached transport: `AttributeError: 'NoneType' object has no attribute 'hostname'`. That is
   not a connection error, so nothing catches it, and the worker exits with "Unrecoverable
   error".

`Channel.close` below reads the pending BRPOP reply itself and lets a failed read go: the read
is only there to leave the connection clean, and a dead connection is not reused. The close then
goes on as it would have, while the transport is still attached, and marks the channel closed,
so the second close has nothing left to do. The messages the channel could not restore stay in
Redis's `unacked` set (if Redis kept its data) and come back after the visibility timeout;
CivicFix does not depend on that either way, because the outbox row, not the message, remembers
what is still to send (docs/notifications.md).

Used by naming it in settings.CELERY_BROKER_TRANSPORT for redis:// and rediss:// brokers.
"""

from __future__ import annotations

import contextlib
from queue import Empty

from kombu.transport import redis


class Channel(redis.Channel):
    def close(self) -> None:
        if self._in_poll:
            with contextlib.suppress(Empty, *self.connection_errors):
                self._brpop_read()
        super().close()


class Transport(redis.Transport):
    Channel = Channel
