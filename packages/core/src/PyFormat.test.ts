import { describe, expect, test } from "bun:test"
import * as PyFormat from "./PyFormat.ts"
import * as PyJson from "./PyJson.ts"

// Expected strings are what Python 3.11 printed.
describe("PyFormat rounds and pads as CPython", () => {
  const f = (x: number, spec: string) => PyFormat.format({ type: "float", value: x }, spec)
  const i = (n: number, spec: string) => PyFormat.format({ type: "int", value: BigInt(n) }, spec)
  test.each([
    [0.05, ".0f", "0"], [0.5, ".0f", "0"], [0.51, ".0f", "1"], [2.5, ".0f", "2"], [0.25, ".1f", "0.2"], [9.99, ".1f", "10.0"],
    [0.00049, ".3f", "0.000"], [99.95, ".1f", "100.0"], [9.5, ".0e", "1e+01"], [1e-7, ".3", "1e-07"], [0.0001, ".2", "0.0001"],
    [12.0, ".1", "1e+01"], [1.7976931348623157e308, ".3e", "1.798e+308"], [0.1, ".20f", "0.10000000000000000555"],
    [3.0, "#.0f", "3."], [0.1, ".10g", "0.1"], [1e-5, "g", "1e-05"], [123456789.0, "g", "1.23457e+08"], [100000.0, "g", "100000"],
    [1000000.0, "g", "1e+06"], [0.0, "e", "0.000000e+00"], [0.0, "g", "0"], [0.0, ".2", "0.0"], [5.0, ".0e", "5e+00"],
    [1234.5, "010,.1f", "0,001,234.5"], [1.5, "010.1%", "0000150.0%"], [Infinity, "010,", "0000000inf"], [-3.14159, "08.3f", "-003.142"]
  ])("format(%p, %p) is %p", (x, spec, expected) => {
    expect(f(x, spec)).toBe(expected)
  })
  test.each([
    [1234, "05,", "1,234"], [1234, "06,", "01,234"], [1234, "08,", "0,001,234"], [1234, "0=10,", "00,001,234"],
    [-1234, "09_", "-0_001_234"], [255, "#07_x", "0x0_00ff"], [255, "#011_x", "0x0000_00ff"], [42, "=+8", "+     42"], [65, "c", "A"]
  ])("format(%p, %p) is %p", (n, spec, expected) => {
    expect(i(n, spec)).toBe(expected)
  })
})

describe("PyJson.dumpUnsorted", () => {
  test("is json.dumps(indent=2) without sort_keys: keys as written", () => {
    // Python 3.11: json.dumps(json.loads(SOURCE), indent=2)
    const SOURCE = '{"b": 1.0, "a": [1, 2.5e-7], "e": {}, "big": 12345678901234567890}'
    expect(PyJson.dumpUnsorted(PyJson.parse(SOURCE))).toBe(
      "{\n  \"b\": 1.0,\n  \"a\": [\n    1,\n    2.5e-07\n  ],\n  \"e\": {},\n  \"big\": 12345678901234567890\n}"
    )
  })
})
