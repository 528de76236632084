/**
 * The Content-Type a file is published with, from its extension: browsers and
 * STAC clients fetching assets straight from the bucket rely on it, and S3
 * keeps whatever the upload said.
 */
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  json: "application/json",
  geojson: "application/geo+json",
  xml: "application/xml",
  kml: "application/vnd.google-earth.kml+xml",
  kmz: "application/vnd.google-earth.kmz",
  txt: "text/plain",
  log: "text/plain",
  csv: "text/csv",
  html: "text/html",
  md: "text/markdown",
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  tif: "image/tiff",
  tiff: "image/tiff",
  h5: "application/x-hdf5",
  hdf5: "application/x-hdf5",
  he5: "application/x-hdf5",
  hdf: "application/x-hdf",
  nc: "application/x-netcdf",
  nc4: "application/x-netcdf",
  zip: "application/zip",
  gz: "application/gzip",
  tgz: "application/gzip",
  tar: "application/x-tar",
  pdf: "application/pdf"
}

export const contentTypeFor = (key: string): string => {
  const ext = /\.([^./]+)$/.exec(key)?.[1]?.toLowerCase()
  return (ext !== undefined ? CONTENT_TYPES[ext] : undefined) ?? "application/octet-stream"
}
