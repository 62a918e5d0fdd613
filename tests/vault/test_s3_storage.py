"""Sealed files on S3-compatible storage (EMBARGO_FILE_STORAGE=s3): through the real django-storages and boto3
client against a local S3-compatible server (moto's, in a thread), which stands in for a bucket of a service we do
not run. The bucket sees ciphertext only; the files read back intact; the backup says that the bucket is not in
it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from embargo import backup
from embargo.vault import files
from embargo.vault.progress import Progress
from tests.helpers import Api, submit
from tests.test_backup import DUMP, MARKERS, PASSPHRASE, SEED, Instance, new_instance, passphrase_file

__all__ = ["new_instance", "passphrase_file"]  # fixtures of tests/test_backup.py, used here

boto3 = pytest.importorskip("boto3", reason="the s3 extra (django-storages[s3]) is not installed")
pytest.importorskip("storages.backends.s3", reason="the s3 extra (django-storages[s3]) is not installed")
moto_server = pytest.importorskip("moto.server", reason="moto[server] (a dev dependency) is not installed")

BUCKET = "embargo-files"
SECRET_CONTENT = b"Wombat-5521: the proof of concept that must never reach the bucket in clear.\n" * 40


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def bucket(s3_endpoint: str, settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """An empty bucket, and Embargo configured to keep its sealed files there."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")  # a proxy from the environment must not stand in between
    options = {
        "endpoint_url": s3_endpoint,
        "region_name": "us-east-1",
        "access_key": "test-key-id",
        "secret_key": "test-secret",
    }
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="test-key-id",
        aws_secret_access_key="test-secret",
    )
    client.create_bucket(Bucket=BUCKET)
    settings.EMBARGO_FILE_STORAGE = "s3"
    settings.EMBARGO_S3 = {**options, "bucket_name": BUCKET, "location": "instance-1"}
    files._storage.cache_clear()
    try:
        yield client
    finally:
        files._storage.cache_clear()
        for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
            client.delete_object(Bucket=BUCKET, Key=item["Key"])
        client.delete_bucket(Bucket=BUCKET)


def _objects(client: Any) -> dict[str, bytes]:
    listed = client.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    return {item["Key"]: client.get_object(Bucket=BUCKET, Key=item["Key"])["Body"].read() for item in listed}


@pytest.mark.django_db
def test_an_attachment_lands_in_the_bucket_sealed_and_downloads_intact(
    team: dict[str, Api], bucket: Any, settings: Any
) -> None:
    rid = submit(team["reporter"])["id"]
    upload = SimpleUploadedFile("poc.txt", SECRET_CONTENT, content_type="text/plain")
    created = team["reporter"].post(f"/api/v1/reports/{rid}/attachments", files={"file": upload})
    assert created.status == 201, created.text

    stored = _objects(bucket)
    # One object, under the configured prefix, and nothing of it left on the local disk.
    assert list(stored) == [f"instance-1/attachments/{created.json['id']}"]
    assert not (Path(settings.EMBARGO_DATA_DIR) / "files" / "attachments" / created.json["id"]).exists()
    ciphertext = stored[f"instance-1/attachments/{created.json['id']}"]
    assert b"Wombat-5521" not in ciphertext
    assert hashlib.sha256(ciphertext).hexdigest() != created.json["sha256"]
    assert len(ciphertext) > len(SECRET_CONTENT)  # sealed: nonce and tag around it

    download = team["maintainer"].get(created.json["download_url"])
    assert download.status == 200
    assert download.body == SECRET_CONTENT


@pytest.mark.django_db
def test_a_sealed_file_changed_in_the_bucket_does_not_open(bucket: Any, team: dict[str, Api]) -> None:
    """The bucket is trusted with neither secrecy nor integrity: an object altered there is refused."""
    from embargo.reports.actions import read_attachment
    from embargo.reports.models import Attachment
    from embargo.vault.sealing import SealError

    rid = submit(team["reporter"])["id"]
    upload = SimpleUploadedFile("poc.txt", SECRET_CONTENT, content_type="text/plain")
    created = team["reporter"].post(f"/api/v1/reports/{rid}/attachments", files={"file": upload})
    key = f"instance-1/attachments/{created.json['id']}"
    sealed = bytearray(_objects(bucket)[key])
    sealed[-1] ^= 1
    bucket.put_object(Bucket=BUCKET, Key=key, Body=bytes(sealed))
    with pytest.raises(SealError):
        read_attachment(Attachment.objects.get(public_id=created.json["id"]))


@pytest.mark.e2e
def test_a_backup_names_the_bucket_it_leaves_out_and_restores_against_it(
    bucket: Any, new_instance: Callable[[str], Instance], passphrase_file: Path, tmp_path: Path, s3_endpoint: str
) -> None:
    """Real `embargo` processes (tests/test_backup.py): an instance keeping its files in the bucket is backed up;
    the archive holds none of the bucket's objects and says where they are; an instance restored from it on
    another data dir, configured with the same bucket, reads every attachment back intact."""
    s3_env = {
        "EMBARGO_FILE_STORAGE": "s3",
        "EMBARGO_S3_BUCKET": BUCKET,
        "EMBARGO_S3_PREFIX": "instance-2",
        "EMBARGO_S3_ENDPOINT_URL": s3_endpoint,
        "EMBARGO_S3_REGION": "us-east-1",
        "EMBARGO_S3_ACCESS_KEY_ID": "test-key-id",
        "EMBARGO_S3_SECRET_ACCESS_KEY": "test-secret",
        "NO_PROXY": "127.0.0.1",
    }
    source = new_instance("source")
    source.env.update(s3_env)
    source.python(SEED, json.dumps(MARKERS))
    before = json.loads(source.python(DUMP))
    assert len(before["contents"]) == 2
    objects = [key for key in _objects(bucket) if key.startswith("instance-2/attachments/")]
    assert len(objects) == 2
    assert not (source.data_dir / "files").exists()

    archive = tmp_path / "instance.embargo-backup"
    said = source.run("backup", str(archive), "--passphrase-file", str(passphrase_file))
    assert f"NOT in it: the sealed attachments and patches, which are in s3://{BUCKET}/instance-2/" in said.stdout
    manifest = backup._check(archive, PASSPHRASE, Progress("check", total=0, enabled=False))
    assert manifest["external_files"] == f"s3://{BUCKET}/instance-2/"
    with backup._open_archive(archive, PASSPHRASE, None) as tar:
        names = [member.name for member in tar]
    assert not [name for name in names if name.startswith("data/files/")], names

    target = new_instance("target")
    target.env.update(s3_env)
    restored = target.run("restore", str(archive), "--passphrase-file", str(passphrase_file))
    assert f"were in s3://{BUCKET}/instance-2/, not in the archive" in restored.stdout
    target.run("migrate", "--quiet")
    after = json.loads(target.python(DUMP))
    assert after["contents"] == before["contents"]
