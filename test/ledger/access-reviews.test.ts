/** The ledger's access-review records on both backends (PGlite, PostgreSQL): see access-reviews-cases.ts. */
import { BACKENDS } from "./backends.js";
import { accessReviewLedgerTests } from "./access-reviews-cases.js";

for (const name of BACKENDS) accessReviewLedgerTests(name);
