#!/usr/bin/env python3
"""What HySDS 3.3 writes as `_datasets.json` for a job's classic products.

Written for hysds-stac (not taken from HySDS) from HySDS's documented rules
(`dataset_ingest_bulk.py`: `update_json`, `json.dump(prods, f, indent=2,
sort_keys=True)`; see README "HySDS compatibility"), so the golden file beside
it can be re-derived with nothing but python3:

    python3 test/parity/golden/hysds_datasets_json.py examples/mixed-job \\
        examples/datasets.json --stac-from <hysds-stac's _datasets.json> \\
        > test/parity/golden/mixed-job._datasets.json

Classic products are built here, independently of hysds-stac: found as
`os.walk` (sorted, following links) finds `<X>/<X>.dataset.json`, skipping
`.localized` inputs and directories holding a STAC catalog; the first entry
whose `match_pattern` is found in the product path wins (`alt_match_pattern`
on the path, then on each file name); templates as HySDS renders them
(deploy-time `{{ VAR | default('x') }}` from the environment, `${name}`, then
`str.format`). STAC items have no HySDS rule to follow (HySDS's STAC branch
writes its item documents first, then the classic ones): their entries are
taken as they are from `--stac-from` and only re-serialised here.
"""
import argparse
import json
import os
import re
import socket
import string
import sys
from glob import glob

DEPLOY = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\|\s*default\(\s*'([^']*)'\s*\))?\s*\}\}")
BROWSE_RE = re.compile(r"^(.+)\.browse\.png$")


def deploy_time(value):
    """`{{ VAR | default('x') }}`: the environment's value, else the default."""
    if isinstance(value, str):
        return DEPLOY.sub(lambda m: os.environ.get(m.group(1)) or (m.group(2) or ""), value)
    if isinstance(value, list):
        return [deploy_time(v) for v in value]
    if isinstance(value, dict):
        return {k: deploy_time(v) for k, v in value.items()}
    return value


def render(template, variables):
    return string.Template(template).safe_substitute(variables).format(**variables)


def products(job_dir):
    """Product dirs in os.walk order (sorted), as HySDS's find_dataset_json yields them."""
    catalogs = []
    for root, dirs, files in os.walk(job_dir, followlinks=True):
        files.sort()
        dirs.sort()
        if "catalog.json" in files and not any(root.startswith(c + os.sep) for c in catalogs):
            catalogs.append(root)
        for f in files:
            m = re.search(r"^(.*)\.dataset\.json$", f)
            if not m:
                continue
            prod_dir = os.path.join(os.path.dirname(root), m.group(1))
            if prod_dir != root or os.path.exists(os.path.join(prod_dir, ".localized")):
                continue
            if any(prod_dir == c or prod_dir.startswith(c + os.sep) for c in catalogs):
                continue
            yield prod_dir


def recognize(config, prod_dir):
    for entry in config["datasets"]:
        m = re.search(entry["match_pattern"], prod_dir)
        if not m:
            continue
        groups = m.groupdict()
        alt = entry.get("alt_match_pattern")
        if alt:
            am = re.search(alt, prod_dir)
            if not am:
                for name in sorted(os.listdir(prod_dir)):
                    am = re.search(alt, name)
                    if am:
                        break
            if not am:
                continue
            groups.update(am.groupdict())
        return entry, groups
    raise SystemExit(f"no datasets.json entry matches {prod_dir}")


def update_json(config, prod_dir, prov):
    objectid = os.path.basename(prod_dir)
    entry, groups = recognize(config, prod_dir)
    with open(os.path.join(prod_dir, f"{objectid}.dataset.json")) as f:
        dataset = json.load(f)
    met_file = os.path.join(prod_dir, f"{objectid}.met.json")
    metadata = {}
    if os.path.exists(met_file):
        with open(met_file) as f:
            metadata = json.load(f)
    variables = {"id": objectid, "version": dataset["version"], "type": entry["type"], "level": entry["level"],
                 "hostname": socket.getfqdn(), "dataset": dataset, "met": metadata, **groups}
    publish = entry.get("publish")
    urls = [render(u, variables) for u in publish.get("urls", [])] if publish else []
    browse = entry.get("browse")
    if browse:
        browse_urls = [render(u, variables) for u in browse.get("urls", [])]
        images = []
        # HySDS globs in directory order; sorted here, as hysds-stac does, to be reproducible.
        for img in sorted(glob(f"{prod_dir}/*browse.png")):
            small = img.replace("browse.png", "browse_small.png")
            tooltip = BROWSE_RE.search(os.path.basename(img))
            images.append({"img": os.path.basename(img),
                           "small_img": os.path.basename(small) if os.path.exists(small) else None,
                           "tooltip": tooltip.group(1) if tooltip else ""})
        order = browse.get("sort_order")
        if isinstance(order, list) and order:
            rank = lambda i: next((n for n, p in enumerate(order) if re.search(p, i["img"])), len(order))
            images.sort(key=rank)
    else:
        browse_urls, images = [], []
    doc = {
        "id": objectid,
        "objectid": objectid,
        "metadata": metadata,
        "dataset": entry["ipath"].split("/")[1],
        "ipath": entry["ipath"],
        "system_version": dataset["version"],
        "dataset_level": entry["level"],
        "dataset_type": entry["type"],
        "urls": urls,
        "browse_urls": browse_urls,
        "images": images,
        "prov": prov,
    }
    doc.update(dataset)
    index = entry.get("index")
    if index is not None:
        doc["index"] = index
    doc["grq_index_result"] = {"index": index}
    return doc


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("job_dir")
    parser.add_argument("datasets_json")
    parser.add_argument("--stac-from", help="a _datasets.json whose STAC item entries (with stac_item_id) go first")
    args = parser.parse_args()
    job_dir = os.path.realpath(args.job_dir)
    with open(args.datasets_json) as f:
        config = deploy_time(json.load(f))
    with open(os.path.join(job_dir, "_context.json")) as f:
        prov = json.load(f).get("_prov", {})
    prods = []
    if args.stac_from:
        with open(args.stac_from) as f:
            prods.extend(p for p in json.load(f) if "stac_item_id" in p)
    prods.extend(update_json(config, d, prov) for d in products(job_dir))
    json.dump(prods, sys.stdout, indent=2, sort_keys=True)


if __name__ == "__main__":
    main()
