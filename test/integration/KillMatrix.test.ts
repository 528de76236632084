/** The kill matrix on real servers (KillMatrixSuite.ts) against stac-fastapi-pgstac, at every boundary. */
import { killMatrixSuite } from "./KillMatrixSuite.ts"

killMatrixSuite("pgstac")
