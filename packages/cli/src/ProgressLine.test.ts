import { expect, test } from "bun:test"
import { rates } from "./ProgressLine.ts"

test("rates: items/s and bytes/s since publishing began, and the time left from the share done", () => {
  // Half the bytes and half the items in 10 s: 10 s left.
  expect(rates({ bytes: 2048, items: 100 }, { bytes: 1024, items: 50 }, 10)).toBe("5.0 items/s, 102 B/s, ETA 10s")
  // Bytes done, items a quarter: share 0.625 after 50 s, 30 s left.
  expect(rates({ bytes: 1024, items: 4 }, { bytes: 1024, items: 1 }, 50)).toBe("0.0 items/s, 20 B/s, ETA 30s")
  // Long runs read as minutes or hours.
  expect(rates({ bytes: 0, items: 1000 }, { bytes: 0, items: 10 }, 60)).toBe("0.2 items/s, 0 B/s, ETA 1h39m")
  expect(rates({ bytes: 0, items: 100 }, { bytes: 0, items: 40 }, 60)).toBe("0.7 items/s, 0 B/s, ETA 1m30s")
  // Nothing done yet, or all done: no ETA; no time yet: nothing.
  expect(rates({ bytes: 10, items: 1 }, { bytes: 0, items: 0 }, 5)).toBe("0.0 items/s, 0 B/s")
  expect(rates({ bytes: 10, items: 1 }, { bytes: 10, items: 1 }, 5)).toBe("0.2 items/s, 2 B/s")
  expect(rates({ bytes: 10, items: 1 }, { bytes: 5, items: 0 }, 0)).toBe("")
})
