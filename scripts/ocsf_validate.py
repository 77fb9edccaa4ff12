"""Validate netaudit's OCSF output with py-ocsf-models (the OCSF 1.5.0 models).

Usage: ocsf_validate.py FILE.jsonl | DIR
  FILE.jsonl: JSON Lines, one event per line (`--format ocsf`).
  DIR: the Parquet partitions of `--format ocsf-parquet`, read back with pyarrow.

Every event is validated by the model of its class (Compliance Finding 2003, Detection Finding
2004). py-ocsf-models ignores attributes it does not model, so every key is also checked against
the model's fields, with the OCSF 1.5.0 attributes the library leaves out listed below (the cloud
profile's `cloud` on a Compliance Finding, `compliance.status_details`...), and `cloud` is validated
with the library's Cloud model. Prints a JSON summary: events per class, per status_code and per
Parquet partition, and the finding uids; exits 1 on the first invalid event.
"""

import json
import sys
import typing
from pathlib import Path

import pydantic
from py_ocsf_models import OCSF_VERSION
from py_ocsf_models.events.findings.compliance_finding import ComplianceFinding
from py_ocsf_models.events.findings.detection_finding import DetectionFinding
from py_ocsf_models.objects.cloud import Cloud

MODELS = {2003: ComplianceFinding, 2004: DetectionFinding}

# OCSF 1.5.0 attributes that py-ocsf-models 0.10.0 does not model, per object path.
UNMODELLED = {
    (): {"cloud"},
    ("compliance",): {"status", "status_details"},
}
# json_t attributes: any content.
FREE_FORM = {("unmapped",), ("resources", "data")}


def model_of(annotation):
    """The pydantic model inside Optional[...] / list[...], if any."""
    origin = typing.get_origin(annotation)
    if origin is None:
        if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
            return annotation
        return None
    for arg in typing.get_args(annotation):
        found = model_of(arg)
        if found is not None:
            return found
    return None


def check_keys(value, model, path=()):
    if path in FREE_FORM or model is None:
        return
    if isinstance(value, list):
        for item in value:
            check_keys(item, model, path)
        return
    if not isinstance(value, dict):
        return
    allowed = set(model.model_fields) | UNMODELLED.get(path, set())
    unknown = set(value) - allowed
    if unknown:
        raise ValueError(f"{'.'.join(path) or 'event'}: attributes {sorted(unknown)} are not in {model.__name__}")
    for key, item in value.items():
        field = model.model_fields.get(key)
        if field is not None:
            check_keys(item, model_of(field.annotation), path + (key,))


def validate(event):
    class_uid = event.get("class_uid")
    model = MODELS.get(class_uid)
    if model is None:
        raise ValueError(f"class_uid {class_uid!r} is not a Compliance or Detection Finding")
    if event.get("metadata", {}).get("version") != OCSF_VERSION:
        raise ValueError(f"metadata.version is not {OCSF_VERSION}")
    if event.get("type_uid") != class_uid * 100 + event.get("activity_id", -1):
        raise ValueError("type_uid is not class_uid * 100 + activity_id")
    model.model_validate(event)
    Cloud.model_validate(event["cloud"])
    check_keys(event, model)


def without_nulls(value):
    """A Parquet row as the JSON event was: absent attributes are nulls in a struct column."""
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value]
    return value


def parquet_events(root):
    import pyarrow.parquet as pq

    for path in sorted(root.rglob("*.parquet")):
        partition = str(path.parent.relative_to(root))
        for row in pq.ParquetFile(path).read().to_pylist():
            event = without_nulls(row)
            for resource in event.get("resources", []):
                if "data" in resource:
                    resource["data"] = json.loads(resource["data"])
            if "unmapped" in event:
                event["unmapped"] = json.loads(event["unmapped"])
            yield partition, event


def main():
    target = Path(sys.argv[1])
    if target.is_dir():
        events = list(parquet_events(target))
    else:
        # JSON Lines ends records at "\n" only (splitlines would also split at U+2028 inside a string).
        lines = target.read_text(encoding="utf-8").split("\n")
        events = [(None, json.loads(line)) for line in lines if line.strip()]
    summary = {"events": 0, "classes": {}, "status_codes": {}, "partitions": {}, "uids": []}
    for number, (partition, event) in enumerate(events, 1):
        try:
            validate(event)
        except (ValueError, pydantic.ValidationError, KeyError) as error:
            print(f"event {number} ({partition or target}): {error}", file=sys.stderr)
            return 1
        summary["events"] += 1
        summary["classes"][str(event["class_uid"])] = summary["classes"].get(str(event["class_uid"]), 0) + 1
        code = event.get("status_code", "")
        summary["status_codes"][code] = summary["status_codes"].get(code, 0) + 1
        if partition is not None:
            summary["partitions"][partition] = summary["partitions"].get(partition, 0) + 1
        summary["uids"].append(event["finding_info"]["uid"])
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
