"""End-to-end smoke check of the running test services.

Run through `services.sh smoke` (uses the services venv, which has boto3).
Reads the endpoints from .run/services.env, exercises each service with real
requests, cleans up after itself and exits non-zero on the first failure.
"""

import json
import sys
import time
import urllib.error
import urllib.request

import boto3
import botocore.exceptions
from botocore.config import Config


def read_env(path):
    env = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                key, value = line.split("=", 1)
                env[key] = value
    return env


def http(method, url, body=None, headers=None):
    """Return (status, headers, parsed JSON body or text)."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("content-type", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            status, hdrs, raw = resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as e:
        status, hdrs, raw = e.code, e.headers, e.read()
    try:
        return status, hdrs, json.loads(raw) if raw else None
    except ValueError:
        return status, hdrs, raw.decode(errors="replace")


def check(name, condition, detail=""):
    if not condition:
        print(f"FAIL {name} {detail}")
        sys.exit(1)
    print(f"ok   {name}")


def smoke_s3(env, suffix):
    s3 = boto3.client(
        "s3",
        endpoint_url=env["S3_ENDPOINT"],
        aws_access_key_id=env["S3_ACCESS_KEY_ID"],
        aws_secret_access_key=env["S3_SECRET_ACCESS_KEY"],
        region_name=env["S3_REGION"],
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
    )
    bucket = f"smoke-{suffix}"
    s3.create_bucket(Bucket=bucket)
    check("s3 create bucket (signed)", True)
    s3.put_object(Bucket=bucket, Key="a/one.json", Body=b'{"n":1}', ContentType="application/json")
    got = s3.get_object(Bucket=bucket, Key="a/one.json")["Body"].read()
    check("s3 put/get", got == b'{"n":1}', repr(got))
    s3.put_object(Bucket=bucket, Key="a/once", Body=b"first", IfNoneMatch="*")
    try:
        s3.put_object(Bucket=bucket, Key="a/once", Body=b"second", IfNoneMatch="*")
        status = 200
    except botocore.exceptions.ClientError as e:
        status = e.response["ResponseMetadata"]["HTTPStatusCode"]
    check("s3 If-None-Match:* second put -> 412", status == 412, f"got {status}")
    body = s3.get_object(Bucket=bucket, Key="a/once")["Body"].read()
    check("s3 conditional put kept first body", body == b"first", repr(body))
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="a/").get("Contents", [])]
    check("s3 list", sorted(keys) == ["a/once", "a/one.json"], repr(keys))
    s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys]})
    s3.delete_bucket(Bucket=bucket)
    check("s3 delete objects + bucket", True)


def smoke_search(name, url, suffix):
    index = f"smoke-{suffix}"
    status, _, _ = http("PUT", f"{url}/{index}", {"mappings": {"properties": {"k": {"type": "keyword"}}}})
    check(f"{name} create index", status == 200, str(status))
    status, _, _ = http("PUT", f"{url}/{index}/_doc/1?refresh=true", {"k": "v"})
    check(f"{name} index doc", status == 201, str(status))
    status, hdrs, body = http("POST", f"{url}/{index}/_search", {"query": {"term": {"k": "v"}}})
    check(f"{name} search", status == 200 and body["hits"]["total"]["value"] == 1, str(body)[:200])
    if name == "elasticsearch":
        product = hdrs.get("X-Elastic-Product")
        check("elasticsearch X-Elastic-Product header", product == "Elasticsearch", repr(product))
    status, _, _ = http("DELETE", f"{url}/{index}")
    check(f"{name} delete index", status == 200, str(status))


def smoke_stac(url, suffix):
    cid = f"smoke-{suffix}"
    collection = {
        "type": "Collection", "stac_version": "1.0.0", "id": cid, "description": "smoke",
        "license": "proprietary", "links": [],
        "extent": {"spatial": {"bbox": [[-180, -90, 180, 90]]}, "temporal": {"interval": [[None, None]]}},
    }
    item = {
        "type": "Feature", "stac_version": "1.0.0", "id": "item-1", "collection": cid,
        "geometry": {"type": "Point", "coordinates": [1, 2]}, "bbox": [1, 2, 1, 2],
        "properties": {"datetime": "2024-01-01T00:00:00Z"}, "links": [],
        "assets": {"data": {"href": "s3://bucket/key.h5"}},
    }
    status, _, body = http("POST", f"{url}/collections", collection)
    check("stac POST /collections", status == 201, f"{status} {body}")
    status, _, body = http("POST", f"{url}/collections/{cid}/items", item)
    check("stac POST item", status == 201, f"{status} {body}")
    status, _, body = http("GET", f"{url}/collections/{cid}/items/item-1")
    check("stac GET item", status == 200 and body["id"] == "item-1", f"{status} {body}")
    status, _, body = http("DELETE", f"{url}/collections/{cid}/items/item-1")
    check("stac DELETE item", status == 200, f"{status} {body}")
    status, _, body = http("DELETE", f"{url}/collections/{cid}")
    check("stac DELETE collection", status == 200, f"{status} {body}")


def main():
    env = read_env(sys.argv[1])
    suffix = str(int(time.time() * 1000))
    smoke_s3(env, suffix)
    smoke_search("opensearch", env["OPENSEARCH_URL"], suffix)
    if "ELASTICSEARCH_URL" in env:
        smoke_search("elasticsearch", env["ELASTICSEARCH_URL"], suffix)
    smoke_stac(env["STAC_API_URL"], suffix)
    print("smoke: every check passed")


if __name__ == "__main__":
    main()
