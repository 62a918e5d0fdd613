from django.db import models


class DataKey(models.Model):
    """A record's own AES-256 key, stored only wrapped by a key-encryption key of the key ring."""

    kek_id = models.CharField(max_length=32)
    wrapped = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"data key {self.pk} (wrapped by {self.kek_id})"
