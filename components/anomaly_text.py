"""Plain sentences for TFDV anomalies (no TensorFlow import: `polarity status` uses it too)."""


def describe_anomalies(anomalies) -> list[str]:
    """One plain sentence per anomaly in a tensorflow_metadata Anomalies proto."""
    lines = []
    for feature, info in sorted(anomalies.anomaly_info.items()):
        reasons = "; ".join(reason.description or reason.short_description for reason in info.reason)
        lines.append(
            f"feature '{feature}': {info.short_description or 'anomaly'} ({reasons or info.description})"
        )
    if anomalies.HasField("dataset_anomaly_info"):
        info = anomalies.dataset_anomaly_info
        reasons = "; ".join(reason.description for reason in info.reason)
        lines.append(f"dataset: {info.short_description} ({reasons or info.description})")
    return lines
