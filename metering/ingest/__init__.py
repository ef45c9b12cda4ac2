"""The ingest hot path: request envelopes (`envelopes`), per-event decoding and validation
(`parsing`), the set-based SQL (`sql`) and the reads over stored events (`selectors`)."""
