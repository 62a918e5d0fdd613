from django.db import models


class Counter(models.Model):
    """Requests (or failed log-ins) counted for one key in one window of one scope, shared by every web process.

    `key_hash` is an HMAC of the key (an IP address, an e-mail address, a token), never the key itself.
    Times are Unix seconds so that the one upsert in `embargo.ratelimit` stays plain SQL on SQLite and PostgreSQL.
    """

    scope = models.CharField(max_length=48)
    key_hash = models.CharField(max_length=64)
    window_start = models.BigIntegerField()
    hits = models.IntegerField(default=0)
    last_at = models.BigIntegerField()
    # When the row no longer matters (its window ended, or a back-off was forgotten): then it may be deleted.
    expires_at = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "key_hash", "window_start"], name="throttle_counter_key"),
        ]
        indexes = [models.Index(fields=["expires_at"], name="throttle_counter_expiry")]

    def __str__(self) -> str:
        return f"{self.scope} {self.key_hash[:8]}… {self.hits} since {self.window_start}"
