#!/usr/bin/env python3
"""Drive the devserver's S3 gateway (/io) with botocore, an independent SigV4 client.

Usage: s3_botocore.py URL TOKEN OTHER_TOKEN [EXPIRED_TOKEN]
  TOKEN          a token of a user who can write common-files and see team-cell (admin/alice)
  OTHER_TOKEN    a token of a user who cannot see team-cell (bob)
  EXPIRED_TOKEN  an expired token (checked to be refused)

Prints one line per check and "N passed, M failed" at the end; exit status 0 only if
every check passed. Exit 77 if botocore is not importable.
"""
import hashlib
import os
import sys
import traceback
import uuid

try:
    import botocore.session
    from botocore.config import Config
    from botocore.exceptions import ClientError
except ImportError:  # pragma: no cover
    print("botocore is not installed", file=sys.stderr)
    sys.exit(77)

URL, TOKEN, OTHER = sys.argv[1], sys.argv[2], sys.argv[3]
EXPIRED = sys.argv[4] if len(sys.argv) > 4 else None
BUCKET = "io"
PREFIX = "common-files/s3-botocore-%s" % uuid.uuid4().hex[:8]
print("prefix: %s" % PREFIX)

RESULTS = []


def client(token=TOKEN, secret="gatewaysecret", checksums="when_required"):
    cfg = Config(
        s3={"addressing_style": "path"},
        signature_version="s3v4",
        retries={"max_attempts": 1, "mode": "standard"},
        request_checksum_calculation=checksums,
        response_checksum_validation="when_required",
    )
    return botocore.session.get_session().create_client(
        "s3",
        endpoint_url=URL,
        region_name="us-east-1",
        aws_access_key_id=token,
        aws_secret_access_key=secret,
        config=cfg,
    )


def check(name):
    def deco(fn):
        try:
            fn()
            RESULTS.append((name, True))
            print("ok   %s" % name)
        except Exception:  # noqa: BLE001
            RESULTS.append((name, False))
            print("FAIL %s" % name)
            traceback.print_exc(file=sys.stdout)
        return fn

    return deco


def expect_error(fn, codes, statuses):
    try:
        fn()
    except ClientError as e:
        code = e.response.get("Error", {}).get("Code")
        status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        assert code in codes or (code is None and status in statuses), (code, status)
        assert status in statuses, (code, status)
        return code, status
    raise AssertionError("request unexpectedly succeeded")


s3 = client()
BODY = b"hello from botocore\n" * 100
KEY = PREFIX + "/hello world \u00e9t\u00e9.txt"


@check("put_object returns the MD5 ETag")
def _():
    r = s3.put_object(Bucket=BUCKET, Key=KEY, Body=BODY, ContentType="application/octet-stream")
    assert r["ETag"] == '"%s"' % hashlib.md5(BODY).hexdigest(), r["ETag"]


@check("head_object")
def _():
    r = s3.head_object(Bucket=BUCKET, Key=KEY)
    assert r["ContentLength"] == len(BODY), r
    assert r["ETag"] == '"%s"' % hashlib.md5(BODY).hexdigest(), r["ETag"]
    assert "LastModified" in r


@check("get_object returns the bytes")
def _():
    r = s3.get_object(Bucket=BUCKET, Key=KEY)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert r["Body"].read() == BODY


@check("get_object with Range gives 206")
def _():
    r = s3.get_object(Bucket=BUCKET, Key=KEY, Range="bytes=6-10")
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 206, r["ResponseMetadata"]
    assert r["ContentRange"] == "bytes 6-10/%d" % len(BODY), r["ContentRange"]
    assert r["Body"].read() == BODY[6:11]
    r = s3.get_object(Bucket=BUCKET, Key=KEY, Range="bytes=-4")
    assert r["Body"].read() == BODY[-4:]


@check("unsatisfiable range is refused")
def _():
    expect_error(lambda: s3.get_object(Bucket=BUCKET, Key=KEY, Range="bytes=999999-"), {"InvalidRange"}, {416})


@check("put with default botocore checksums (aws-chunked trailer) also works")
def _():
    c = client(checksums="when_supported")
    k = PREFIX + "/chunked.bin"
    body = os.urandom(300000)
    c.put_object(Bucket=BUCKET, Key=k, Body=body)
    assert s3.get_object(Bucket=BUCKET, Key=k)["Body"].read() == body


@check("odd key characters round trip")
def _():
    for name in ["a+b=c&d%e.txt", "sp ace;semi,comma.txt", "[br]{ce}(pa)!'*~$@.bin", "\u00c9t\u00e9 \u65e5\u672c.txt", "hash#q?x.txt"]:
        k = PREFIX + "/odd/" + name
        body = name.encode("utf-8") * 3
        s3.put_object(Bucket=BUCKET, Key=k, Body=body)
        assert s3.get_object(Bucket=BUCKET, Key=k)["Body"].read() == body, name
        assert s3.head_object(Bucket=BUCKET, Key=k)["ContentLength"] == len(body), name


def listing_available():
    try:
        s3.list_objects_v2(Bucket=BUCKET, Prefix="common-files/", MaxKeys=1)
        return True
    except ClientError as e:
        if e.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 501:
            print("     (ListObjects not wired in this server: listing checks skipped)")
            return False
        raise


@check("ListObjectsV2 and ListObjects")
def _():
    if not listing_available():
        return
    r = s3.list_objects_v2(Bucket=BUCKET, Prefix=PREFIX + "/", Delimiter="/")
    keys = [o["Key"] for o in r.get("Contents", [])]
    assert KEY in keys, keys
    assert keys == sorted(keys), keys
    assert [p["Prefix"] for p in r.get("CommonPrefixes", [])] == [PREFIX + "/odd/"], r.get("CommonPrefixes")
    etag = [o["ETag"] for o in r["Contents"] if o["Key"] == KEY][0]
    assert etag == '"%s"' % hashlib.md5(BODY).hexdigest(), etag
    # Recursive listing, paginated 2 by 2, odd names decoded back by botocore.
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=PREFIX + "/", PaginationConfig={"PageSize": 2})
    allkeys = [o["Key"] for page in pages for o in page.get("Contents", [])]
    assert len(allkeys) == len(set(allkeys)) and allkeys == sorted(allkeys), allkeys
    for name in ["a+b=c&d%e.txt", "\u00c9t\u00e9 \u65e5\u672c.txt", "hash#q?x.txt"]:
        assert PREFIX + "/odd/" + name in allkeys, (name, allkeys)
    assert KEY in allkeys and PREFIX + "/chunked.bin" in allkeys, allkeys
    # v1 with markers gives the same keys.
    pages = s3.get_paginator("list_objects").paginate(Bucket=BUCKET, Prefix=PREFIX + "/", PaginationConfig={"PageSize": 3})
    v1keys = [o["Key"] for page in pages for o in page.get("Contents", [])]
    assert v1keys == allkeys, (v1keys, allkeys)
    # Root level: the workspaces as prefixes.
    r = s3.list_objects_v2(Bucket=BUCKET, Delimiter="/")
    roots = [p["Prefix"] for p in r.get("CommonPrefixes", [])]
    assert "common-files/" in roots and "team-cell/" in roots, roots
    other = client(token=OTHER)
    r = other.list_objects_v2(Bucket=BUCKET, Delimiter="/")
    assert "team-cell/" not in [p["Prefix"] for p in r.get("CommonPrefixes", [])]
    expect_error(lambda: other.list_objects_v2(Bucket=BUCKET, Prefix="team-cell/"), {"AccessDenied"}, {403})
    r = s3.list_objects_v2(Bucket=BUCKET, Prefix=PREFIX + "/nothing/")
    assert r["KeyCount"] == 0 and "Contents" not in r, r


@check("Content-MD5 is checked")
def _():
    import base64
    k = PREFIX + "/md5.txt"
    good = base64.b64encode(hashlib.md5(b"md5 body").digest()).decode()
    s3.put_object(Bucket=BUCKET, Key=k, Body=b"md5 body", ContentMD5=good)
    bad = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    expect_error(lambda: s3.put_object(Bucket=BUCKET, Key=k, Body=b"changed!", ContentMD5=bad), {"BadDigest"}, {400})
    assert s3.get_object(Bucket=BUCKET, Key=k)["Body"].read() == b"md5 body"


@check("missing key is NoSuchKey 404")
def _():
    expect_error(lambda: s3.get_object(Bucket=BUCKET, Key=PREFIX + "/nope.txt"), {"NoSuchKey"}, {404})
    expect_error(lambda: s3.head_object(Bucket=BUCKET, Key=PREFIX + "/nope.txt"), {"404", "NoSuchKey"}, {404})


@check("multipart upload round trip")
def _():
    k = PREFIX + "/big.bin"
    p1 = os.urandom(5 * 1024 * 1024)
    p2 = os.urandom(1234)
    up = s3.create_multipart_upload(Bucket=BUCKET, Key=k)
    uid = up["UploadId"]
    assert up["Key"] == k and up["Bucket"] == BUCKET
    e1 = s3.upload_part(Bucket=BUCKET, Key=k, UploadId=uid, PartNumber=1, Body=p1)["ETag"]
    e2 = s3.upload_part(Bucket=BUCKET, Key=k, UploadId=uid, PartNumber=2, Body=p2)["ETag"]
    assert e1 == '"%s"' % hashlib.md5(p1).hexdigest()
    lp = s3.list_parts(Bucket=BUCKET, Key=k, UploadId=uid)
    assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in lp["Parts"]] == [(1, e1, len(p1)), (2, e2, len(p2))], lp["Parts"]
    r = s3.complete_multipart_upload(
        Bucket=BUCKET,
        Key=k,
        UploadId=uid,
        MultipartUpload={"Parts": [{"ETag": e1, "PartNumber": 1}, {"ETag": e2, "PartNumber": 2}]},
    )
    want = hashlib.md5(hashlib.md5(p1).digest() + hashlib.md5(p2).digest()).hexdigest() + "-2"
    assert r["ETag"] == '"%s"' % want, r["ETag"]
    got = s3.get_object(Bucket=BUCKET, Key=k)["Body"].read()
    assert hashlib.sha256(got).digest() == hashlib.sha256(p1 + p2).digest()
    assert s3.head_object(Bucket=BUCKET, Key=k)["ETag"] == '"%s"' % want
    expect_error(lambda: s3.list_parts(Bucket=BUCKET, Key=k, UploadId=uid), {"NoSuchUpload"}, {404})


@check("multipart: small non-last part, wrong etag and bad order are refused")
def _():
    k = PREFIX + "/small.bin"
    uid = s3.create_multipart_upload(Bucket=BUCKET, Key=k)["UploadId"]
    e1 = s3.upload_part(Bucket=BUCKET, Key=k, UploadId=uid, PartNumber=1, Body=b"a" * 10)["ETag"]
    e2 = s3.upload_part(Bucket=BUCKET, Key=k, UploadId=uid, PartNumber=2, Body=b"b" * 10)["ETag"]
    parts = [{"ETag": e1, "PartNumber": 1}, {"ETag": e2, "PartNumber": 2}]
    mp = lambda p: s3.complete_multipart_upload(Bucket=BUCKET, Key=k, UploadId=uid, MultipartUpload={"Parts": p})
    expect_error(lambda: mp(parts), {"EntityTooSmall"}, {400})
    expect_error(lambda: mp([{"ETag": '"%s"' % ("0" * 32), "PartNumber": 1}]), {"InvalidPart"}, {400})
    expect_error(lambda: mp(list(reversed(parts))), {"InvalidPartOrder"}, {400})
    # a single (last) part may be small
    r = mp([parts[0]])
    assert r["ETag"].endswith('-1"'), r
    assert s3.get_object(Bucket=BUCKET, Key=k)["Body"].read() == b"a" * 10


@check("multipart: parts in any order, sent again, of mixed sizes or a subset, make the right object")
def _():
    MiB = 1024 * 1024
    def upload(k, sends, complete):
        """sends: (number, bytes) in sending order; complete: the numbers to complete with."""
        uid = s3.create_multipart_upload(Bucket=BUCKET, Key=k)["UploadId"]
        etags, latest = {}, {}
        for n, body in sends:
            etags[n] = s3.upload_part(Bucket=BUCKET, Key=k, UploadId=uid, PartNumber=n, Body=body)["ETag"]
            assert etags[n] == '"%s"' % hashlib.md5(body).hexdigest()
            latest[n] = body
        lp = s3.list_parts(Bucket=BUCKET, Key=k, UploadId=uid)["Parts"]
        assert [(p["PartNumber"], p["Size"], p["ETag"]) for p in lp] == \
            [(n, len(latest[n]), etags[n]) for n in sorted(latest)], lp
        s3.complete_multipart_upload(Bucket=BUCKET, Key=k, UploadId=uid, MultipartUpload={
            "Parts": [{"ETag": etags[n], "PartNumber": n} for n in complete]})
        got = s3.get_object(Bucket=BUCKET, Key=k)["Body"].read()
        want = b"".join(latest[n] for n in complete)
        assert len(got) == len(want) and got == want, (k, len(got), len(want))
    a, b, c, d = (os.urandom(5 * MiB) for _ in range(4))
    tail = os.urandom(777)
    # even parts, the last one first: it fixes the wrong slot size, the others are copied
    upload(PREFIX + "/mp-tail-first.bin", [(3, tail), (1, a), (2, b)], [1, 2, 3])
    # even parts out of order, one sent again with other bytes: the later bytes count
    upload(PREFIX + "/mp-resent.bin", [(2, b), (1, a), (3, tail), (2, c)], [1, 2, 3])
    # mixed sizes
    upload(PREFIX + "/mp-mixed.bin", [(2, b), (1, a + tail), (3, c[:MiB])], [1, 2, 3])
    # a subset of the parts, with a gap
    upload(PREFIX + "/mp-subset.bin", [(1, a), (2, b), (3, c), (4, d)], [1, 3, 4])
    # a subset that ends early: what lies beyond is not part of the object
    upload(PREFIX + "/mp-prefix.bin", [(1, a), (2, b), (3, c)], [1, 2])


@check("abort multipart upload")
def _():
    k = PREFIX + "/aborted.bin"
    uid = s3.create_multipart_upload(Bucket=BUCKET, Key=k)["UploadId"]
    s3.upload_part(Bucket=BUCKET, Key=k, UploadId=uid, PartNumber=1, Body=b"x" * 100)
    r = s3.abort_multipart_upload(Bucket=BUCKET, Key=k, UploadId=uid)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204, r
    expect_error(lambda: s3.list_parts(Bucket=BUCKET, Key=k, UploadId=uid), {"NoSuchUpload"}, {404})
    expect_error(lambda: s3.head_object(Bucket=BUCKET, Key=k), {"404", "NoSuchKey"}, {404})


@check("another user cannot use my upload id")
def _():
    k = PREFIX + "/mine.bin"
    uid = s3.create_multipart_upload(Bucket=BUCKET, Key=k)["UploadId"]
    other = client(token=OTHER)
    expect_error(
        lambda: other.upload_part(Bucket=BUCKET, Key=k, UploadId=uid, PartNumber=1, Body=b"x"),
        {"NoSuchUpload"},
        {404},
    )
    s3.abort_multipart_upload(Bucket=BUCKET, Key=k, UploadId=uid)


@check("wrong secret is SignatureDoesNotMatch 403")
def _():
    bad = client(secret="notthesecret")
    expect_error(lambda: bad.get_object(Bucket=BUCKET, Key=KEY), {"SignatureDoesNotMatch"}, {403})
    expect_error(lambda: bad.put_object(Bucket=BUCKET, Key=PREFIX + "/w.txt", Body=b"x"), {"SignatureDoesNotMatch"}, {403})


@check("unknown token is refused")
def _():
    bad = client(token="not-a-valid-token")
    expect_error(lambda: bad.get_object(Bucket=BUCKET, Key=KEY), {"UnauthorizedAccess", "InvalidAccessKeyId", "AccessDenied"}, {401, 403})


@check("expired token is refused")
def _():
    if EXPIRED is None:
        return
    bad = client(token=EXPIRED)
    expect_error(lambda: bad.head_object(Bucket=BUCKET, Key=KEY), {"401", "403", "UnauthorizedAccess"}, {401, 403})
    expect_error(lambda: bad.put_object(Bucket=BUCKET, Key=KEY, Body=b"x"), {"UnauthorizedAccess", "InvalidAccessKeyId", "AccessDenied"}, {401, 403})
    assert s3.get_object(Bucket=BUCKET, Key=KEY)["Body"].read() == BODY


def tamper(c, fn):
    c.meta.events.register("before-send.s3.*", fn)
    return c


@check("header changed after signing is refused")
def _():
    def change_range(request, **kw):
        request.headers["Range"] = "bytes=0-3"

    c = tamper(client(), change_range)
    expect_error(lambda: c.get_object(Bucket=BUCKET, Key=KEY, Range="bytes=6-10"), {"SignatureDoesNotMatch"}, {403})

    def change_date(request, **kw):
        d = request.headers["X-Amz-Date"]
        d = d.decode() if isinstance(d, bytes) else d
        request.headers["X-Amz-Date"] = d[:-2] + ("1" if d[-2] != "1" else "2") + "Z"

    c = tamper(client(), change_date)
    expect_error(lambda: c.head_object(Bucket=BUCKET, Key=KEY), {"403", "SignatureDoesNotMatch"}, {403})


@check("path changed after signing is refused")
def _():
    def change_path(request, **kw):
        request.url = request.url.replace("hello", "jello")

    c = tamper(client(), change_path)
    expect_error(lambda: c.get_object(Bucket=BUCKET, Key=KEY), {"SignatureDoesNotMatch"}, {403})


@check("body changed after signing is refused and nothing is written")
def _():
    k = PREFIX + "/tampered.txt"

    def change_body(request, **kw):
        request.body = b"evil! " + b"x" * 4

    c = tamper(client(), change_body)
    expect_error(
        lambda: c.put_object(Bucket=BUCKET, Key=k, Body=b"good " + b"y" * 5),
        {"XAmzContentSHA256Mismatch", "BadDigest", "SignatureDoesNotMatch"},
        {400, 403},
    )
    expect_error(lambda: s3.head_object(Bucket=BUCKET, Key=k), {"404", "NoSuchKey"}, {404})


@check("delete_object moves the file to the recycle bin")
def _():
    k = PREFIX + "/to-delete-%s.txt" % uuid.uuid4().hex[:6]
    s3.put_object(Bucket=BUCKET, Key=k, Body=b"bye")
    s3.delete_object(Bucket=BUCKET, Key=k)
    expect_error(lambda: s3.head_object(Bucket=BUCKET, Key=k), {"404", "NoSuchKey"}, {404})
    # A key that does not exist is fine (S3 semantics); a workspace root is refused.
    s3.delete_object(Bucket=BUCKET, Key=k)
    expect_error(lambda: s3.delete_object(Bucket=BUCKET, Key=PREFIX.split("/")[0]), {"AccessDenied"}, {403})


@check("user without access to team-cell is refused")
def _():
    s3.put_object(Bucket=BUCKET, Key="team-cell/s3-%s.txt" % uuid.uuid4().hex[:6], Body=b"cell")
    other = client(token=OTHER)
    expect_error(
        lambda: other.put_object(Bucket=BUCKET, Key="team-cell/bob.txt", Body=b"x"),
        {"AccessDenied", "NoSuchKey", "NoSuchBucket"},
        {403, 404},
    )
    expect_error(
        lambda: other.get_object(Bucket=BUCKET, Key="team-cell/bob.txt"),
        {"AccessDenied", "NoSuchKey"},
        {403, 404},
    )


passed = sum(1 for _, ok in RESULTS if ok)
failed = len(RESULTS) - passed
print("%d passed, %d failed" % (passed, failed))
sys.exit(0 if failed == 0 else 1)
