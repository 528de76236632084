/**
 * A job of classic products made to exercise every field of HySDS's GRQ
 * document, and what HySDS 3.3 + grq2 make of it, written out by hand from
 * their rules (docs/reference: `dataset_ingest_bulk.py` builds `update_json`,
 * grq2 stores it), not by hysds-stac's code:
 *
 * - `AOI_parity_<t>`: an entry with `browse` and `browse.sort_order`, three
 *   browse images (one without its small image), a polygon with a hole, a
 *   met.json with the float `1.0`;
 * - `MULTI_parity_<t>`: an entry without `browse` (its browse.png is ignored),
 *   a multipolygon split at the antimeridian;
 * - `S1-IFG_parity_<t>_20240115T103000`: an entry with `alt_match_pattern`
 *   (its groups in the location and urls) and `index.suffix` + `aliases`.
 *
 * Every id and the custom index carry the tag `t`, so runs on shared servers
 * never collide. Centroids are shapely 2's (`shape(location).centroid`, run
 * once with Python 3.11; grq2 uses shapely), to be matched to 1e-6.
 */
import * as fs from "node:fs"
import * as path from "node:path"

type Json = Record<string, unknown>

export interface ParityJob {
  readonly dir: string
  readonly datasets: string
  readonly ids: { readonly aoi: string; readonly multi: string; readonly ifg: string }
  /** The custom index of the IFG entry and its aliases. */
  readonly customIndex: string
  readonly aliases: ReadonlyArray<string>
  /** HySDS's `update_json` per product, in the order HySDS writes `_datasets.json` (os.walk, sorted). */
  readonly updates: ReadonlyArray<Json>
  /** What grq2 stores per product, without `@timestamp` (checked apart) and `center` (to 1e-6). */
  readonly stored: ReadonlyArray<{ readonly index: string; readonly id: string; readonly doc: Json; readonly center: [number, number] }>
}

const PROV = { wasGeneratedBy: "task-parity", wasAssociatedWith: "parity-worker" }

const AOI_LOCATION = {
  type: "Polygon",
  coordinates: [
    [[-118.2, 34.1], [-117.1, 33.9], [-116.8, 35.2], [-118.5, 35.6], [-118.2, 34.1]],
    [[-117.8, 34.6], [-117.4, 34.6], [-117.4, 34.9], [-117.8, 34.9], [-117.8, 34.6]]
  ]
}
const AOI_CENTER: [number, number] = [-117.65960144927534, 34.75135869565217]

const MULTI_LOCATION = {
  type: "MultiPolygon",
  coordinates: [
    [[[170.5, -10.25], [180, -10.25], [180, 12.75], [170.5, 12.75], [170.5, -10.25]]],
    [[[-180, -10.25], [-172.25, -10.25], [-172.25, 5.5], [-180, 5.5], [-180, -10.25]]]
  ]
}
const MULTI_CENTER: [number, number] = [49.312144430170676, -0.049252156358964946]

const IFG_LOCATION = { type: "Polygon", coordinates: [[[14.9, 37.6], [15.2, 37.6], [15.2, 37.9], [14.9, 37.9], [14.9, 37.6]]] }
const IFG_CENTER: [number, number] = [15.049999999999999, 37.75]

const write = (file: string, content: string | Json) => {
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(file, typeof content === "string" ? content : JSON.stringify(content, null, 2))
}

/** The datasets.json of the job; `ifgAliases` replaces the IFG entry's aliases (the rollback test adds one). */
export const datasetsJson = (t: string, ifgAliases: ReadonlyArray<string>, suffix = `parity_${t}`): Json => ({
  datasets: [
    {
      ipath: "hysds::data/area_of_interest_parity",
      version: "v1.0",
      level: "l0",
      type: "area_of_interest",
      match_pattern: "/(?P<id>AOI_parity_.+)$",
      publish: {
        location: "s3://parity-products/aoi/{version}/{id}",
        urls: ["https://products.example.com/aoi/{version}/{id}"]
      },
      browse: {
        location: "s3://parity-browse/aoi/{id}",
        urls: ["https://browse.example.com/aoi/{id}"],
        sort_order: ["ifg", "coh"]
      }
    },
    {
      ipath: "hysds::data/multi_parity",
      version: "v1.0",
      level: "l1",
      type: "multi",
      match_pattern: "/(?P<id>MULTI_parity_.+)$",
      publish: { location: "s3://parity-products/multi/{id}", urls: ["https://products.example.com/multi/{id}"] }
    },
    {
      ipath: "hysds::data/S1-IFG-parity",
      version: "v2.0",
      level: "l2",
      type: "interferogram",
      match_pattern: "/(?P<id>S1-IFG_parity_.+)$",
      alt_match_pattern: "(?P<year>\\d{4})(?P<month>\\d{2})(?P<day>\\d{2})T\\d{6}",
      publish: {
        location: "s3://parity-products/ifg/{year}/{month}/{day}/{id}",
        urls: ["https://products.example.com/ifg/{year}/{month}/{day}/{id}"]
      },
      index: { suffix, aliases: [...ifgAliases] }
    }
  ]
})

const PNG = "\x89PNG\r\n\x1a\n"

/** Writes the job under `root` and says what HySDS would make of it. */
export const parityJob = (root: string, t: string): ParityJob => {
  const dir = path.join(root, `parity-job-${t}`)
  const aoi = `AOI_parity_${t}`
  const multi = `MULTI_parity_${t}`
  const ifg = `S1-IFG_parity_${t}_20240115T103000`
  const aliases = [`parity_${t}_latest`, "grq"]
  write(path.join(dir, "_job.json"), { task_id: "task-parity", job_info: { id: "job-parity", status: 0, payload_hash: "p4r1ty", job_payload: { payload_task_id: "payload-parity" } } })
  write(path.join(dir, "_context.json"), { _prov: PROV, _force_ingest: false })

  const aoiDataset = {
    version: "v1.0",
    label: "AOI parity",
    starttime: "2024-01-15T10:30:00Z",
    endtime: "2024-01-17T23:30:00Z",
    creation_timestamp: "2024-01-20T08:00:00Z",
    location: AOI_LOCATION
  }
  write(path.join(dir, aoi, `${aoi}.dataset.json`), aoiDataset)
  // Written by hand so `1.0` stays a float, as HySDS reads it.
  write(path.join(dir, aoi, `${aoi}.met.json`), '{\n  "ratio": 1.0,\n  "count": 3,\n  "name": "Montréal"\n}\n')
  for (const f of [`${aoi}.browse.png`, `${aoi}.browse_small.png`, `${aoi}.coh.browse.png`, `${aoi}.coh.browse_small.png`, `${aoi}.ifg.browse.png`]) {
    write(path.join(dir, aoi, f), PNG + f)
  }
  write(path.join(dir, aoi, `${aoi}.h5`), "data")

  const multiDataset = { version: "v1.0", label: "multi parity", starttime: "2024-02-01T00:00:00", endtime: "2024-02-01T11:59:59", location: MULTI_LOCATION }
  write(path.join(dir, multi, `${multi}.dataset.json`), multiDataset)
  write(path.join(dir, multi, `${multi}.browse.png`), PNG + "ignored")

  const ifgDataset = { version: "v2.0", label: "ifg parity", starttime: "2024-01-15T10:30:00Z", endtime: "2024-01-16T10:30:00Z", location: IFG_LOCATION }
  write(path.join(dir, ifg, `${ifg}.dataset.json`), ifgDataset)
  write(path.join(dir, ifg, `${ifg}.met.json`), { track: 124, perpendicular_baseline: 42.5 })
  write(path.join(dir, ifg, `${ifg}.h5`), "data")

  const datasets = path.join(root, `datasets-${t}.json`)
  write(datasets, datasetsJson(t, aliases))

  const index = { suffix: `parity_${t}`, aliases }
  // HySDS's update_json: fixed fields, dataset.json merged over them, index, grq_index_result.
  const updates: Array<Json> = [
    {
      id: aoi,
      objectid: aoi,
      metadata: { ratio: 1.0, count: 3, name: "Montréal" },
      dataset: "area_of_interest_parity",
      ipath: "hysds::data/area_of_interest_parity",
      system_version: "v1.0",
      dataset_level: "l0",
      dataset_type: "area_of_interest",
      urls: [`https://products.example.com/aoi/v1.0/${aoi}`],
      browse_urls: [`https://browse.example.com/aoi/${aoi}`],
      images: [
        { img: `${aoi}.ifg.browse.png`, small_img: null, tooltip: `${aoi}.ifg` },
        { img: `${aoi}.coh.browse.png`, small_img: `${aoi}.coh.browse_small.png`, tooltip: `${aoi}.coh` },
        { img: `${aoi}.browse.png`, small_img: `${aoi}.browse_small.png`, tooltip: aoi }
      ],
      prov: PROV,
      ...aoiDataset,
      grq_index_result: { index: null }
    },
    {
      id: multi,
      objectid: multi,
      metadata: {},
      dataset: "multi_parity",
      ipath: "hysds::data/multi_parity",
      system_version: "v1.0",
      dataset_level: "l1",
      dataset_type: "multi",
      urls: [`https://products.example.com/multi/${multi}`],
      browse_urls: [],
      images: [],
      prov: PROV,
      ...multiDataset,
      grq_index_result: { index: null }
    },
    {
      id: ifg,
      objectid: ifg,
      metadata: { track: 124, perpendicular_baseline: 42.5 },
      dataset: "S1-IFG-parity",
      ipath: "hysds::data/S1-IFG-parity",
      system_version: "v2.0",
      dataset_level: "l2",
      dataset_type: "interferogram",
      urls: [`https://products.example.com/ifg/2024/01/15/${ifg}`],
      browse_urls: [],
      images: [],
      prov: PROV,
      ...ifgDataset,
      index,
      grq_index_result: { index }
    }
  ]
  // grq2: index dropped, location.type lower-cased, center, temporal_span (@timestamp checked apart).
  const storedOf = (u: Json, extra: Json): Json => {
    const { index: _index, ...doc } = u
    return { ...doc, location: { ...(u.location as Json), type: String((u.location as Json).type).toLowerCase() }, ...extra }
  }
  return {
    dir,
    datasets,
    ids: { aoi, multi, ifg },
    customIndex: `grq_parity_${t}`,
    aliases,
    updates,
    stored: [
      // 2 days 13 hours: the remainder of 12 h or more counts as a day.
      { index: "grq_v1.0_area_of_interest_parity", id: aoi, doc: storedOf(updates[0]!, { temporal_span: 3 }), center: AOI_CENTER },
      // 11:59:59 is under half a day.
      { index: "grq_v1.0_multi_parity", id: multi, doc: storedOf(updates[1]!, { temporal_span: 0 }), center: MULTI_CENTER },
      { index: `grq_parity_${t}`, id: ifg, doc: storedOf(updates[2]!, { temporal_span: 1 }), center: IFG_CENTER }
    ]
  }
}

/** Another job of one IFG product (`n` tells them apart), for the rollback of aliases; `suffix` its entry's index.suffix. */
export const secondIfgJob = (
  root: string,
  t: string,
  aliases: ReadonlyArray<string>,
  n = 2,
  suffix = `parity_${t}`
): { dir: string; datasets: string; id: string } => {
  const dir = path.join(root, `parity-job${n}-${t}`)
  const id = `S1-IFG_parity_${t}_202401${15 + n - 1}T103000`
  write(path.join(dir, "_job.json"), { task_id: "task-parity-2", job_info: { id: "job-parity-2", status: 0, payload_hash: "p4r1ty2", job_payload: { payload_task_id: "payload-parity-2" } } })
  write(path.join(dir, "_context.json"), { _prov: PROV })
  write(path.join(dir, id, `${id}.dataset.json`), { version: "v2.0", location: IFG_LOCATION })
  const datasets = path.join(root, `datasets${n}-${t}.json`)
  write(datasets, datasetsJson(t, aliases, suffix))
  return { dir, datasets, id }
}
