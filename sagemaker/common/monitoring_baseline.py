"""The data-quality baseline sample: rows of the training snapshot in the form Model Monitor compares.

SageMaker Model Monitor's analyzer only reads tabular or flat JSON records
(https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-pre-and-post-processing.html); a
design's record preprocessor turns each captured request into such records, and this module writes
the training snapshot's rows as the same records: one flat JSON object per line, the monitored
fields only, every value a string (as the preprocessor emits them, so both sides infer the same
types). The pipeline's baselining processing job reads the file with `dataset_format`
`{"json": {"lines": true}}` (https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-create-baseline.html).

The sample is a uniform reservoir sample of at most `max_rows` rows, seeded, so a rerun on the same
snapshot writes the same file.
"""
from __future__ import annotations

import csv
import json
import os
import random
from typing import Iterable, Sequence

from common.cli import DataError

# Inside the job's output archive (SM_OUTPUT_DATA_DIR -> output.tar.gz); the pipeline extracts this
# folder and baselines on it. lib/platform/constructs/ml/artifact-layout.ts names the same path.
BASELINE_DIR = "monitoring-baseline"
BASELINE_FILE = "dataset.jsonl"
DEFAULT_MAX_ROWS = 100_000


def sample_rows(rows: Iterable[dict], fields: Sequence[str], max_rows: int = DEFAULT_MAX_ROWS,
                seed: int = 0) -> list[dict]:
    """A uniform sample (reservoir, algorithm R) of at most `max_rows` rows, each cut to `fields`
    with its values as strings, in the order the rows came."""
    if max_rows < 1:
        raise ValueError(f"max_rows: at least 1, got {max_rows}")
    rng = random.Random(seed)
    kept: list[tuple[int, dict]] = []
    for index, row in enumerate(rows):
        slot = index if index < max_rows else rng.randrange(index + 1)
        if slot >= max_rows:
            continue
        record = (index, {field: "" if row.get(field) is None else str(row[field]) for field in fields})
        if index < max_rows:
            kept.append(record)
        else:
            kept[slot] = record
    kept.sort(key=lambda pair: pair[0])
    return [record for _, record in kept]


def read_csv_rows(path: str, fields: Sequence[str]) -> Iterable[dict]:
    """Rows of a channel CSV with a header; a header lacking a monitored field is a DataError."""
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [field for field in fields if field not in (reader.fieldnames or [])]
        if missing:
            raise DataError(f"{path}: header lacks the monitored field(s) {', '.join(missing)}")
        yield from reader


def write_baseline_sample(channel_csv: str, fields: Sequence[str], output_data_dir: str,
                          max_rows: int = DEFAULT_MAX_ROWS, seed: int = 0) -> str:
    """Writes the sample of `channel_csv` to <output_data_dir>/monitoring-baseline/dataset.jsonl and
    returns its path."""
    if not fields:
        raise ValueError("fields: at least one monitored field")
    records = sample_rows(read_csv_rows(channel_csv, fields), fields, max_rows, seed)
    if not records:
        raise DataError(f"{channel_csv}: no rows to baseline on")
    directory = os.path.join(output_data_dir, BASELINE_DIR)
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, BASELINE_FILE)
    with open(path, "w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, separators=(",", ":")) + "\n")
    return path
